package dev.onnxskip.rewrite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OrtException;
import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorTypes;
import dev.onnxskip.layout.Block;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.testing.ModelEdits;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Built;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Inputs;
import dev.onnxskip.testing.SyntheticBert.LayerNorm;
import dev.onnxskip.testing.SyntheticBert.Naming;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Skip variants of synthetic models in every export style: each runs in ONNX Runtime and equals
 * the model's suffix applied to its prefix, loses exactly the skipped blocks' nodes and weights,
 * and keeps its source's signature; and a spec's anonymous, scrambled, fused and names-only twins
 * give the named twin's variants.
 */
class SyntheticVariantTest {

  private static final int BATCH = 3;
  private static final int SEQ = 6;
  private static final double EXACT = 1e-5;
  /** The fused ops (packed QKV, SkipLayerNormalization, BiasGelu) round differently. */
  private static final double FUSED = 1e-4;

  /** How a test model was made from its spec. */
  enum Form { TORCH, FUSED, QDQ, NAMES_ONLY }

  record Case(Built built, Form form) {}

  static Stream<Arguments> styles() {
    List<Arguments> cases = new ArrayList<>();
    for (Form form : Form.values()) {
      for (Naming naming : Naming.values()) {
        if (form == Form.NAMES_ONLY && (naming == Naming.ANONYMOUS || naming == Naming.SCRAMBLED)) {
          continue; // nothing to find them by: LayoutDetectorTest pins the error
        }
        Spec base = Spec.tiny(3).withNaming(naming).withSeed(naming.ordinal() + 11);
        cases.add(style(base, form));
        cases.add(style(base.withLayers(4).withLayerNorm(LayerNorm.OP).withHead(Head.MEAN_POOL_CLASSIFIER, 3), form));
        cases.add(style(base.withLayers(1).withHead(Head.CLS_CLASSIFIER, 2), form));
      }
    }
    return cases.stream();
  }

  private static Arguments style(Spec spec, Form form) {
    Built built = make(spec, form);
    String label = form + " " + spec.naming() + " " + spec.layerNorm() + " " + spec.head() + " L" + spec.layers();
    return Arguments.of(Named.of(label, new Case(built, form)));
  }

  private static Built make(Spec spec, Form form) {
    return switch (form) {
      case TORCH -> SyntheticBert.buildWithTruth(spec);
      case FUSED -> SyntheticBert.fusedWithTruth(spec);
      case QDQ -> ModelEdits.qdqOnBoundaries(SyntheticBert.buildWithTruth(spec));
      case NAMES_ONLY -> ModelEdits.softmaxWrittenOut(SyntheticBert.buildWithTruth(spec), i -> true);
    };
  }

  /** The first and the last layer alone, all layers, and a random span, each once. */
  private static List<SkipSpan> spans(int layers, long seed) {
    Random random = new Random(seed);
    int start = random.nextInt(layers);
    int end = start + random.nextInt(layers - start);
    Set<SkipSpan> spans = new LinkedHashSet<>(List.of(
        new SkipSpan(0, 0), new SkipSpan(layers - 1, layers - 1), new SkipSpan(0, layers - 1),
        new SkipSpan(start, end)));
    return List.copyOf(spans);
  }

  @ParameterizedTest
  @MethodSource("styles")
  void variantsEqualTheSuffixOfThePrefixAndDropTheSkippedBlocks(Case c) throws OrtException {
    Spec spec = c.built().spec();
    OnnxModel model = OnnxModel.of(c.built().model());
    EncoderLayout layout = LayoutDetector.detect(model);
    assertEquals(c.built().boundaries(), layout.boundaries());
    Map<String, long[][]> inputs = feeds(SyntheticBert.randomInputs(spec, BATCH, SEQ, spec.seed()));
    String output = spec.outputName();
    float[] full = OrtHarness.run(model, inputs, Map.of()).get(output).data();
    // Every boundary at once, from one prefix session.
    Map<String, OrtHarness.Floats> stream =
        OrtHarness.run(SubModels.extract(model, layout, List.of(), layout.boundaries()), inputs, Map.of());

    // Cut at the embeddings' output, the suffix recomputes the model; in the fused form that cut
    // detaches EmbedLayerNormalization's output 0 but still needs its mask index.
    float[] recomposed = OrtHarness.run(Suffixes.after(model, layout, 0), inputs,
        Map.of(layout.boundary(0), stream.get(layout.boundary(0)))).get(output).data();
    assertTrue(OrtHarness.maxAbsDiff(full, recomposed) <= EXACT, "suffix of the prefix at boundary 0");

    for (SkipSpan span : spans(spec.layers(), spec.seed())) {
      OnnxModel variant = SkipRewriter.variant(model, layout, span, "sha");
      float[] got = OrtHarness.run(variant, inputs, Map.of()).get(output).data();

      OrtHarness.Floats kept = stream.get(layout.boundary(span.start()));
      int resume = span.end() + 1;
      float[] expected = resume == spec.layers() && spec.head() == Head.NONE
          ? kept.data() // nothing follows the last layer: the suffix is the identity
          : OrtHarness.run(Suffixes.after(model, layout, resume), inputs, Map.of(layout.boundary(resume), kept))
              .get(output).data();
      double diff = OrtHarness.maxAbsDiff(got, expected);
      assertTrue(diff <= EXACT, "skip " + span + ": max diff " + diff);
      assertTrue(OrtHarness.maxAbsDiff(got, full) > 1e-6, "skipping " + span + " must change the output");
      if (span.length() == spec.layers() && spec.head() == Head.NONE) {
        assertArrayEquals(stream.get(layout.boundary(0)).data(), got, "skipping every block leaves the embeddings' output");
      }
      assertPruned(model, layout, span, variant, c.form());
      assertEquals(model.proto().getGraph().getInputList(), variant.proto().getGraph().getInputList());
      assertEquals(model.proto().getGraph().getOutputList(), variant.proto().getGraph().getOutputList());
    }
  }

  /** No node of a skipped block remains, nor any weight only they used; attention is gone with them. */
  private static void assertPruned(OnnxModel model, EncoderLayout layout, SkipSpan span, OnnxModel variant, Form form) {
    Graph source = model.copyGraph();
    Graph pruned = variant.copyGraph();
    Set<String> variantNodes = new HashSet<>();
    pruned.nodes().forEach(n -> variantNodes.add(n.name()));
    long expectedParameters = source.initializers().values().stream().mapToLong(TensorTypes::elementCount).sum();
    for (Block b : layout.blocks()) {
      if (span.skips(b.index())) {
        expectedParameters -= b.parameterCount();
        for (Node n : b.nodes()) {
          assertFalse(variantNodes.contains(n.name()), "node " + n.label() + " of skipped block " + b.index() + " remains");
        }
      }
    }
    assertEquals(expectedParameters, pruned.initializers().values().stream().mapToLong(TensorTypes::elementCount).sum());
    int attentionPerLayer = form == Form.NAMES_ONLY ? 0 : 1;
    assertEquals((layout.layers() - span.length()) * attentionPerLayer, attentionOps(pruned), "attention ops kept");
  }

  private static long attentionOps(Graph g) {
    return g.nodes().stream().map(Node::opType).filter(op -> op.equals("Softmax") || op.equals("Attention")).count();
  }

  // ---- twins ------------------------------------------------------------------------------------

  @ParameterizedTest
  @EnumSource(value = Naming.class, names = {"ENCODER", "BERT", "ROBERTA", "DISTILBERT"})
  void twinsOfOneSpecGiveTheNamedTwinsVariants(Naming naming) throws OrtException {
    Spec spec = Spec.tiny(3).withNaming(naming).withHead(Head.CLS_CLASSIFIER, 3).withSeed(23);
    Map<String, long[][]> inputs = feeds(SyntheticBert.randomInputs(spec, BATCH, SEQ, 5));
    OnnxModel named = OnnxModel.of(SyntheticBert.build(spec));
    EncoderLayout namedLayout = LayoutDetector.detect(named);

    Map<String, Twin> twins = new HashMap<>();
    twins.put("fused", new Twin(SyntheticBert.fused(spec), FUSED));
    twins.put("names only", new Twin(make(spec, Form.NAMES_ONLY).model(), EXACT));
    if (naming == Naming.ENCODER) {
      // ANONYMOUS and SCRAMBLED are the ENCODER graph renamed.
      twins.put("anonymous", new Twin(SyntheticBert.build(spec.withNaming(Naming.ANONYMOUS)), 0));
      twins.put("scrambled", new Twin(SyntheticBert.build(spec.withNaming(Naming.SCRAMBLED)), 0));
    }
    for (SkipSpan span : List.of(new SkipSpan(0, 0), new SkipSpan(1, 2), new SkipSpan(0, 2))) {
      float[] expected = run(SkipRewriter.variant(named, namedLayout, span, "sha"), inputs);
      for (Map.Entry<String, Twin> twin : twins.entrySet()) {
        OnnxModel model = OnnxModel.of(twin.getValue().model());
        EncoderLayout layout = LayoutDetector.detect(model);
        assertEquals(namedLayout.layers(), layout.layers(), twin.getKey());
        float[] got = run(SkipRewriter.variant(model, layout, span, "sha"), inputs);
        double diff = OrtHarness.maxAbsDiff(expected, got);
        assertTrue(diff <= twin.getValue().tolerance(), twin.getKey() + " skip " + span + ": max diff " + diff);
      }
    }
  }

  private record Twin(ModelProto model, double tolerance) {}

  private static float[] run(OnnxModel model, Map<String, long[][]> inputs) throws OrtException {
    return OrtHarness.run(model, inputs, Map.of()).get("logits").data();
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
