package dev.onnxskip.rewrite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtException;
import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.Block;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Built;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Inputs;
import dev.onnxskip.testing.SyntheticBert.LayerNorm;
import dev.onnxskip.testing.SyntheticBert.Naming;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The rewrite's invariants over random synthetic encoders (1 to 24 layers, every naming from torch
 * scopes to anonymous numbers, either LayerNorm form, with or without a classifier head) and random
 * spans: the variant, written to a file and loaded back, keeps its source's input and output
 * signature, passes the reference ONNX checker and strict shape inference, is a well-formed graph
 * in topological order, holds no node of a skipped block, and computes the source's suffix after
 * the span applied to its prefix before it.
 */
class RewriteInvariantsTest {

  private static final int BATCH = 2;
  private static final int SEQ = 5;
  /** Without graph optimizations, the variant and the split model run the same ops on the same floats. */
  private static final double EXACT = 1e-5;

  record Case(Spec spec, SkipSpan span) {
    @Override
    public String toString() {
      return spec.layers() + " layers, " + spec.naming() + ", " + spec.layerNorm() + ", head " + spec.head() + ", seed "
          + spec.seed() + ", skip " + span;
    }
  }

  /** Sixty random cases, each reproducible from its seed (shown in the test name). */
  static Stream<Case> cases() {
    return LongStream.range(0, 60).mapToObj(RewriteInvariantsTest::randomCase);
  }

  static Case randomCase(long seed) {
    Random r = new Random(seed);
    int layers = 1 + r.nextInt(24);
    Naming naming = Naming.values()[r.nextInt(Naming.values().length)];
    LayerNorm layerNorm = LayerNorm.values()[r.nextInt(LayerNorm.values().length)];
    Head head = Head.values()[r.nextInt(Head.values().length)];
    // Tiny widths: a 24-layer model still builds, loads and runs in milliseconds.
    Spec spec = Spec.tiny(layers).withHidden(8).withIntermediate(16).withVocab(32).withMaxPositions(16)
        .withNaming(naming).withLayerNorm(layerNorm).withHead(head, 3).withSeed(1 + r.nextInt(1_000_000));
    int start = r.nextInt(layers);
    int end = start + r.nextInt(layers - start);
    return new Case(spec, new SkipSpan(start, end));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void variantsKeepTheSignatureLoseTheSkippedBlocksAndEqualTheSuffixOfThePrefix(Case c)
      throws IOException, OrtException {
    Spec spec = c.spec();
    SkipSpan span = c.span();
    Built built = SyntheticBert.buildWithTruth(spec);
    OnnxModel model = OnnxModel.of(built.model());
    EncoderLayout layout = LayoutDetector.detect(model);
    assertEquals(built.boundaries(), layout.boundaries(), "the blocks the rewrite starts from");

    OnnxModel variant = writtenAndLoaded(model, layout, span);

    assertEquals(model.proto().getGraph().getInputList(), variant.proto().getGraph().getInputList(), "inputs");
    assertEquals(model.proto().getGraph().getOutputList(), variant.proto().getGraph().getOutputList(), "outputs");
    assertEquals(model.proto().getOpsetImportList(), variant.proto().getOpsetImportList(), "opsets");
    assertEquals(model.proto().getIrVersion(), variant.proto().getIrVersion(), "IR version");
    assertEquals(Optional.of(span), Provenance.read(variant).map(Provenance::span), "recorded span");
    assertDefinedInOrder(variant.copyGraph());
    assertNoSkippedNode(model, layout, span, variant.copyGraph());

    Map<String, long[][]> inputs = feeds(SyntheticBert.randomInputs(spec, BATCH, SEQ, spec.seed()));
    String output = spec.outputName();
    float[] got = OrtHarness.run(variant, inputs, Map.of()).get(output).data();
    OrtHarness.Floats kept = OrtHarness.run(SubModels.prefix(model, layout, span.start()), inputs, Map.of())
        .get(layout.boundary(span.start()));
    int resume = span.end() + 1;
    float[] expected = resume == spec.layers() && spec.head() == Head.NONE
        ? kept.data() // the span reaches the encoder's output: nothing follows the cut
        : OrtHarness.run(Suffixes.after(model, layout, resume), inputs, Map.of(layout.boundary(resume), kept))
            .get(output).data();
    double diff = OrtHarness.maxAbsDiff(got, expected);
    assertTrue(diff <= EXACT, "variant against suffix(prefix(x)): max diff " + diff);
  }

  /** The variant as the command line leaves it: written by VariantWriter, validated, then loaded from its file. */
  private static OnnxModel writtenAndLoaded(OnnxModel model, EncoderLayout layout, SkipSpan span) throws IOException {
    Path dir = Files.createTempDirectory("invariants");
    Path file = dir.resolve(VariantWriter.fileName(span, layout.layers()));
    try {
      VariantWriter.Written w = VariantWriter.create(model, layout, "sha", Optional.empty()).write(span, file);
      assertEquals(w.nodes(), Validator.validate(file).nodes(), "the reference checker accepts the variant");
      OnnxModel loaded = ModelIO.load(file);
      assertEquals(w.nodes(), loaded.proto().getGraph().getNodeCount());
      return loaded;
    } finally {
      Files.deleteIfExists(file);
      Files.delete(dir);
    }
  }

  /** Every tensor a node reads is a graph input, an initializer or the output of an earlier node. */
  private static void assertDefinedInOrder(Graph g) {
    Set<String> defined = new HashSet<>(g.inputNames());
    defined.addAll(g.initializers().keySet());
    for (Node n : g.nodes()) {
      for (String in : n.allInputs()) {
        assertTrue(defined.contains(in), "node " + n.label() + " reads '" + in + "' before it is defined");
      }
      for (String out : n.outputs()) {
        assertTrue(out.isEmpty() || defined.add(out), "tensor '" + out + "' is defined twice");
      }
    }
    g.outputNames().forEach(o -> assertTrue(defined.contains(o), "graph output '" + o + "' is not produced"));
  }

  /**
   * No node of a skipped block remains, by name, and nothing a skipped node computed is computed
   * again, but for graph outputs, which the variant copies from the kept stream under their name.
   */
  private static void assertNoSkippedNode(OnnxModel model, EncoderLayout layout, SkipSpan span, Graph variant) {
    Set<String> names = new HashSet<>();
    Set<String> produced = new HashSet<>();
    for (Node n : variant.nodes()) {
      names.add(n.name());
      produced.addAll(n.outputs());
    }
    produced.removeAll(variant.outputNames());
    for (Block b : layout.blocks()) {
      if (!span.skips(b.index())) {
        continue;
      }
      for (Node skipped : b.nodes()) {
        assertFalse(names.contains(skipped.name()), "node " + skipped.label() + " of skipped block " + b.index() + " remains");
        skipped.outputs().forEach(o -> assertFalse(produced.contains(o),
            "'" + o + "' of skipped block " + b.index() + " is still computed"));
      }
    }
  }

  private static Map<String, long[][]> feeds(Inputs in) {
    Map<String, long[][]> feeds = new HashMap<>();
    feeds.put("input_ids", in.inputIds());
    feeds.put("attention_mask", in.attentionMask());
    if (in.tokenTypeIds() != null) {
      feeds.put("token_type_ids", in.tokenTypeIds());
    }
    return feeds;
  }
}
