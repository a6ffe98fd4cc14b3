package dev.onnxskip.testing;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.util.List;
import java.util.Random;

/**
 * Valid ONNX models that are no transformer encoder, for the tool to refuse: a small image
 * classifier (Conv, Relu, pooling, Gemm) and a token MLP (embedding lookup, MatMul, Relu, MatMul).
 * Both run in ONNX Runtime; weights are random but fixed.
 */
public final class PlainNets {
  private PlainNets() {}

  /** image [N, 3, 8, 8] -> Conv 3x3 (4 channels) -> Relu -> GlobalAveragePool -> Flatten -> Gemm -> logits [N, 2]. */
  public static ModelProto convNet() {
    Random random = new Random(3);
    GraphBuilder g = new GraphBuilder(17);
    g.input(GraphBuilder.valueInfo("image", TensorProto.DataType.FLOAT, "N", 3, 8, 8));
    String w = g.initializer("conv.weight", new long[] {4, 3, 3, 3}, values(random, 4 * 3 * 3 * 3));
    String b = g.initializer("conv.bias", new long[] {4}, values(random, 4));
    String conv = g.op("/conv", "Conv", List.of("image", w, b), GraphBuilder.ints("kernel_shape", 3, 3),
        GraphBuilder.ints("pads", 1, 1, 1, 1));
    String relu = g.op("/relu", "Relu", List.of(conv));
    String pooled = g.op("/pool", "GlobalAveragePool", List.of(relu));
    String flat = g.op("/flatten", "Flatten", List.of(pooled), GraphBuilder.integer("axis", 1));
    String fcW = g.initializer("fc.weight", new long[] {2, 4}, values(random, 8));
    String fcB = g.initializer("fc.bias", new long[] {2}, values(random, 2));
    g.op("/fc", "Gemm", List.of(flat, fcW, fcB), "logits", GraphBuilder.integer("transB", 1));
    g.output(GraphBuilder.valueInfo("logits", TensorProto.DataType.FLOAT, "N", 2));
    return g.model("convnet");
  }

  /**
   * input_ids [batch, sequence] -> Gather(embeddings) -> MatMul -> Relu -> MatMul -> scores: it
   * starts like an encoder, with a token lookup, but has no attention and no LayerNorm.
   */
  public static ModelProto mlp() {
    Random random = new Random(5);
    GraphBuilder g = new GraphBuilder(17);
    g.input(GraphBuilder.valueInfo("input_ids", TensorProto.DataType.INT64, "batch_size", "sequence_length"));
    String table = g.initializer("embeddings.weight", new long[] {16, 8}, values(random, 16 * 8));
    String embedded = g.op("/embeddings", "Gather", List.of(table, "input_ids"));
    String w1 = g.matMulWeight(new long[] {8, 8}, values(random, 64));
    String h = g.op("/fc1", "MatMul", List.of(embedded, w1));
    String a = g.op("/act", "Relu", List.of(h));
    String w2 = g.matMulWeight(new long[] {8, 3}, values(random, 24));
    g.op("/fc2", "MatMul", List.of(a, w2), "scores");
    g.output(GraphBuilder.valueInfo("scores", TensorProto.DataType.FLOAT, "batch_size", "sequence_length", 3));
    return g.model("mlp");
  }

  private static float[] values(Random random, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) random.nextGaussian() * 0.1f;
    }
    return v;
  }
}
