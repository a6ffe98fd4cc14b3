package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.data.BatchPlan;
import dev.onnxskip.data.EncodedDataset;
import dev.onnxskip.data.Encoding;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.ClassifierHead;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.rewrite.ExposedOutputs;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.SkipSpans;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.ClassifierOutputs;
import dev.onnxskip.runtime.ClassifierSignature;
import dev.onnxskip.runtime.Device;
import dev.onnxskip.runtime.OrtRuntime;
import dev.onnxskip.testing.SyntheticBert;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The shared engine gives the naive engine's logits (one full pass per rewritten variant) for every
 * span, on a small synthetic classifier: batches with trailing padding and a short last batch,
 * stacks cut into chunks, span lists with gaps, int32 token inputs.
 */
class SharedPrefixEngineTest {
  private static final OrtRuntime CPU = OrtRuntime.open(Device.CPU, 1);
  private static final SyntheticBert.Spec SPEC =
      SyntheticBert.Spec.tiny(4).withHead(SyntheticBert.Head.MEAN_POOL_CLASSIFIER, 3);

  /** Random examples of lengths 2..maxLength, ids drawn clear of the padding id, second half type 1. */
  private static EncodedDataset data(int count, int maxLength, long seed) {
    Random random = new Random(seed);
    List<Encoding> encodings = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int length = 2 + random.nextInt(maxLength - 1);
      long[] ids = new long[length];
      long[] types = new long[length];
      long[] mask = new long[length];
      for (int t = 0; t < length; t++) {
        ids[t] = 2 + random.nextInt(SPEC.vocab() - 2);
        types[t] = t < length / 2 ? 0 : 1;
        mask[t] = 1;
      }
      encodings.add(new Encoding(ids, types, mask));
    }
    return new EncodedDataset(encodings, maxLength, SPEC.paddingId());
  }

  /** Logits per variant in data order, and the number of flushes (one per batch run). */
  private record Evaluated(Map<Variant, float[][]> logits, int flushes) {}

  private static Evaluated evaluate(EvalEngine engine, List<Variant> todo, Set<Integer> skipBatches, int examples) {
    Map<Variant, float[][]> logits = new LinkedHashMap<>();
    int[] flushes = {0};
    engine.run(todo, skipBatches, new EvalEngine.Sink() {
      @Override
      public void done(Variant span, int[] rows, ClassifierOutputs outputs) {
        float[][] values = outputs.logits();
        assertEquals(rows.length, values.length);
        float[][] target = logits.computeIfAbsent(span, s -> new float[examples][]);
        for (int i = 0; i < rows.length; i++) {
          assertEquals(null, target[rows[i]], "example " + rows[i] + " reported twice for " + span);
          target[rows[i]] = values[i];
        }
      }

      @Override
      public void flush() {
        flushes[0]++;
      }
    }, count -> {});
    return new Evaluated(logits, flushes[0]);
  }

  private static List<Variant> baselineAnd(List<SkipSpan> spans) {
    List<Variant> todo = new ArrayList<>();
    todo.add(Variant.BASELINE);
    spans.forEach(s -> todo.add(s));
    return todo;
  }

  /** Runs both engines and checks every variant's logits agree within 1e-5; returns the shared ones. */
  private static Map<Variant, float[][]> assertEnginesAgree(OnnxModel model, BatchPlan plan, List<Variant> todo,
      int stackTokens, int examples) {
    EncoderLayout layout = LayoutDetector.detect(model);
    ClassifierSignature signature = ClassifierSignature.of(model, Optional.empty());
    Evaluated naive = evaluate(new NaiveEngine(model, layout, signature, CPU, plan, "test", EvalEngine.Wanted.LOGITS), todo, Set.of(), examples);
    Evaluated shared;
    try (SharedPrefixEngine engine = new SharedPrefixEngine(model, layout, signature, CPU, plan, EvalEngine.Wanted.LOGITS, stackTokens)) {
      shared = evaluate(engine, todo, Set.of(), examples);
    }
    assertEquals(todo.size(), shared.logits().size());
    assertEquals(plan.batchCount(), shared.flushes(), "one consistent unit of work per batch");
    for (Variant variant : todo) {
      float[][] want = naive.logits().get(variant);
      float[][] got = shared.logits().get(variant);
      for (int i = 0; i < examples; i++) {
        assertNotNull(got[i], "no logits for example " + i + " under " + variant);
        assertEquals(want[i].length, got[i].length);
        for (int j = 0; j < want[i].length; j++) {
          assertEquals(want[i][j], got[i][j], 1e-5, "example " + i + ", logit " + j + ", variant " + variant);
        }
      }
    }
    return shared.logits();
  }

  @Test
  void everySpanMatchesTheNaiveEngineOnPaddedBatchesAndAShortLastBatch() {
    OnnxModel model = OnnxModel.of(SyntheticBert.build(SPEC));
    EncodedDataset data = data(11, 12, 1);
    BatchPlan plan = BatchPlan.of(data, 4);
    Map<Variant, float[][]> logits =
        assertEnginesAgree(model, plan, baselineAnd(SkipSpan.all(4)), SharedPrefixEngine.STACK_TOKENS, data.size());
    // Variants must really differ, or agreeing would prove nothing about which states were used.
    float[][] baseline = logits.get(Variant.BASELINE);
    for (SkipSpan s : SkipSpan.all(4)) {
      assertTrue(EvalOutputs.maxDifference(baseline, logits.get(s)) > 1e-3, "skipping " + s + " must change the logits");
    }
  }

  /**
   * Both engines fetch the head's input beside the logits, alike within 1e-5, and it is what the head
   * reads: the logits equal features · W + b with the classifier's weights read from the graph here.
   */
  @Test
  void theHeadsFeaturesAgreeAcrossEnginesAndGiveTheLogitsThroughTheHead() {
    OnnxModel plain = OnnxModel.of(SyntheticBert.build(SPEC));
    ClassifierHead.Linear head = (ClassifierHead.Linear) ClassifierHead.of(plain, "logits");
    OnnxModel model = ExposedOutputs.headFeatures(plain, head, "logits");
    EncodedDataset data = data(7, 9, 4);
    BatchPlan plan = BatchPlan.of(data, 3);
    EncoderLayout layout = LayoutDetector.detect(model);
    ClassifierSignature signature = ClassifierSignature.of(model, Optional.of("logits"));
    List<Variant> todo = baselineAnd(SkipSpan.all(4));
    Map<Variant, float[][]> naive = features(new NaiveEngine(model, layout, signature, CPU, plan, "test", new EvalEngine.Wanted(Optional.of(head.features()), false)),
        todo, data.size());
    Map<Variant, float[][]> shared;
    try (SharedPrefixEngine engine = new SharedPrefixEngine(model, layout, signature, CPU, plan, new EvalEngine.Wanted(Optional.of(head.features()), false), 60)) {
      shared = features(engine, todo, data.size());
    }
    Map<Variant, float[][]> logits = assertEnginesAgree(plain, plan, todo, 60, data.size());
    var graph = plain.proto().getGraph();
    var matMul = graph.getNodeList().stream().filter(n -> n.getOpType().equals("MatMul") && n.getInput(0).equals(head.features()))
        .findFirst().orElseThrow();
    var add = graph.getNodeList().stream().filter(n -> n.getOutput(0).equals("logits")).findFirst().orElseThrow();
    String biasName = add.getInput(0).equals(matMul.getOutput(0)) ? add.getInput(1) : add.getInput(0);
    float[] w = floats(graph, matMul.getInput(1));
    float[] b = floats(graph, biasName);
    int labels = b.length;
    for (Variant v : todo) {
      EvalOutputs.assertClose(naive.get(v), shared.get(v), 1e-5, v.name());
      for (int i = 0; i < data.size(); i++) {
        for (int c = 0; c < labels; c++) {
          double sum = b[c];
          for (int h = 0; h < head.width(); h++) {
            sum += shared.get(v)[i][h] * w[h * labels + c];
          }
          assertEquals(logits.get(v)[i][c], sum, 1e-4, v + ", example " + i + ", logit " + c);
        }
      }
    }
  }

  private static Map<Variant, float[][]> features(EvalEngine engine, List<Variant> todo, int examples) {
    Map<Variant, float[][]> features = new LinkedHashMap<>();
    engine.run(todo, Set.of(), (variant, rows, outputs) -> {
      float[][] target = features.computeIfAbsent(variant, v -> new float[examples][]);
      for (int i = 0; i < rows.length; i++) {
        target[rows[i]] = outputs.features().orElseThrow()[i];
      }
    }, count -> {});
    return features;
  }

  private static float[] floats(ai.onnx.proto.OnnxMl.GraphProto graph, String name) {
    var t = graph.getInitializerList().stream().filter(i -> i.getName().equals(name)).findFirst().orElseThrow();
    var buffer = t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] out = new float[buffer.remaining()];
    buffer.get(out);
    return out;
  }

  @Test
  void stacksCutIntoChunksAndDataOrderBatchesGiveTheSameLogits() {
    OnnxModel model = OnnxModel.of(SyntheticBert.build(SPEC));
    EncodedDataset data = data(9, 10, 2);
    BatchPlan plan = BatchPlan.of(data, 3, BatchPlan.Order.DATASET, BatchPlan.Padding.MAX_LENGTH);
    // 3 rows x 10 tokens: two states per stack, so the three spans ending at 2 run as two chunks.
    assertEnginesAgree(model, plan, baselineAnd(SkipSpan.all(4)), 60, data.size());
  }

  @Test
  void spanListsWithGapsAndWithoutTheDeepestStatesMatch() {
    OnnxModel model = OnnxModel.of(SyntheticBert.build(SPEC));
    EncodedDataset data = data(6, 9, 3);
    BatchPlan plan = BatchPlan.of(data, 4);
    // Ends at 2 from starts 0 and 2 (not contiguous: gathered); the baseline is always run by
    // EvalRun, but an engine asked for spans only must not need it.
    List<Variant> todo = new ArrayList<>();
    SkipSpans.parse("0-2,2-2,1-1", 4).forEach(s -> todo.add(s));
    assertEnginesAgree(model, plan, todo, SharedPrefixEngine.STACK_TOKENS, data.size());
  }

  @Test
  void int32TokenInputsMatch() {
    OnnxModel model = OnnxModel.of(withInt32Inputs(SyntheticBert.build(SPEC)));
    assertTrue(ClassifierSignature.of(model, Optional.empty()).inputs().stream().allMatch(ClassifierSignature.TokenInput::int32));
    EncodedDataset data = data(5, 8, 4);
    assertEnginesAgree(model, BatchPlan.of(data, 2), baselineAnd(SkipSpan.all(4)), SharedPrefixEngine.STACK_TOKENS, data.size());
  }

  @Test
  void finishedBatchesAreSkipped() {
    OnnxModel model = OnnxModel.of(SyntheticBert.build(SPEC));
    EncodedDataset data = data(7, 6, 5);
    BatchPlan plan = BatchPlan.of(data, 3);
    EncoderLayout layout = LayoutDetector.detect(model);
    ClassifierSignature signature = ClassifierSignature.of(model, Optional.empty());
    Evaluated shared;
    try (SharedPrefixEngine engine = new SharedPrefixEngine(model, layout, signature, CPU, plan, EvalEngine.Wanted.LOGITS)) {
      shared = evaluate(engine, baselineAnd(List.of(new SkipSpan(1, 2))), Set.of(1), data.size());
    }
    assertEquals(plan.batchCount() - 1, shared.flushes());
    float[][] baseline = shared.logits().get(Variant.BASELINE);
    Set<Integer> skipped = new java.util.HashSet<>();
    for (int row : plan.exampleIndices(1)) {
      skipped.add(row);
    }
    for (int i = 0; i < data.size(); i++) {
      assertEquals(skipped.contains(i), baseline[i] == null, "example " + i);
    }
  }

  @Test
  void layersThatShareTensorsOffTheResidualStreamAreRefusedWithTheNodeNamed() {
    // Layer 2 takes its batch size from a shape computed in layer 0, as graph simplifiers that
    // merge equal shape computations leave it: switching layer 0 off would change layer 2.
    ModelProto built = SyntheticBert.build(SPEC);
    GraphProto.Builder g = built.getGraph().toBuilder();
    for (int i = 0; i < g.getNodeCount(); i++) {
      if (g.getNode(i).getName().equals("/encoder/layer.2/attention/self/Concat")) {
        g.setNode(i, g.getNode(i).toBuilder().setInput(0, "/encoder/layer.0/attention/self/Unsqueeze_output_0"));
      }
    }
    OnnxModel model = OnnxModel.of(built.toBuilder().setGraph(g).build());
    EncoderLayout layout = LayoutDetector.detect(model);
    ClassifierSignature signature = ClassifierSignature.of(model, Optional.empty());
    BatchPlan plan = BatchPlan.of(data(2, 4, 6), 2);
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> new SharedPrefixEngine(model, layout, signature, CPU, plan, EvalEngine.Wanted.LOGITS).close());
    assertTrue(e.getMessage().contains("'/encoder/layer.2/attention/self/Concat' of layer 2 reads '/encoder/layer.0/attention/self/Unsqueeze_output_0'"),
        e.getMessage());
    assertTrue(e.getMessage().contains("--engine naive"), e.getMessage());
  }

  /**
   * The same model taking int32 token tensors: each input becomes int32 and a Cast back to int64
   * feeds the nodes that read it, as some exporters write.
   */
  private static ModelProto withInt32Inputs(ModelProto model) {
    GraphProto.Builder g = model.getGraph().toBuilder();
    Map<String, String> wide = new HashMap<>();
    List<NodeProto> casts = new ArrayList<>();
    for (int i = 0; i < g.getInputCount(); i++) {
      ValueInfoProto in = g.getInput(i);
      wide.put(in.getName(), in.getName() + "_int64");
      casts.add(NodeProto.newBuilder().setOpType("Cast").setName("/cast_" + in.getName()).addInput(in.getName())
          .addOutput(in.getName() + "_int64")
          .addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT).setI(DataType.INT64_VALUE))
          .build());
      ValueInfoProto.Builder narrowed = in.toBuilder();
      narrowed.getTypeBuilder().getTensorTypeBuilder().setElemType(DataType.INT32_VALUE);
      g.setInput(i, narrowed);
    }
    List<NodeProto> nodes = new ArrayList<>(casts);
    for (NodeProto n : g.getNodeList()) {
      NodeProto.Builder b = n.toBuilder();
      for (int j = 0; j < b.getInputCount(); j++) {
        b.setInput(j, wide.getOrDefault(b.getInput(j), b.getInput(j)));
      }
      nodes.add(b.build());
    }
    g.clearNode().addAllNode(nodes);
    return model.toBuilder().setGraph(g).build();
  }
}
