package dev.onnxskip.eval;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.rewrite.HeadWriter;
import dev.onnxskip.rewrite.Pooling;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * A classifier whose every answer can be worked out by hand: four encoder blocks of the usual shape
 * (softmax self-attention with the key mask, output projection, residual add, two-layer ReLU feed
 * forward, residual add) whose weights make the blocks' effects simple sums.
 *
 * <p>Three labels {@code a, b, c}, hidden size 3 (one axis per label). Word {@code xS} (x in a, b, c;
 * S in 1, 3, 5) embeds as S times the axis of label x.
 *
 * <p>Attention: the query projection has zero weights and bias {@link #QUERY_BIAS} on every axis, and
 * the keys are the token states, so token s scores {@code QUERY_BIAS · (sum of its state)} for every
 * query. Each block adds one vector to all token states (below), which leaves the scores' differences,
 * and so the softmax, as they are in the embeddings: every token attends to the strongest real token of
 * its text (weight 1 within float precision, the next strongest being at least 2·{@code QUERY_BIAS} = 20
 * behind; equal words share it). The output projection is {@link #ATTENTION_OUTPUT}[k]: zero except in
 * block 2, which maps the c axis onto itself with weight -1/4. Nothing before block 2 ever writes the c
 * axis, so block 2's attention adds -S_max/4 on the c axis to every state of a text of label c whose
 * strongest word is c S_max, and nothing to texts of the other labels. "c1 c5" and "c3 c3" have the same
 * mean embedding but not the same strongest word, so only the attention tells them apart.
 *
 * <p>Feed forward: zero weights, output bias {@link #LAYER_SHIFT}[k], so block k adds exactly that
 * vector. The head (written by {@link HeadWriter}) mean-pools the final states over real tokens and
 * applies the identity. So the logits of a text are the mean of its word embeddings, plus the sum of the
 * shifts of the blocks that were not skipped, plus block 2's attention term when block 2 was kept.
 *
 * <p>The padding token embeds as 50 on the c axis: a head or engine that let padded positions into the
 * mean would turn short texts padded in a batch with long ones into c, and an attention that let padded
 * keys in would have them attend to the padding and take 50/4 off their c logit.
 */
public final class KnownAnswerModel {

  static final List<String> LABELS = List.of("a", "b", "c");
  static final int LAYERS = 4;
  static final int HIDDEN = 3;
  private static final int INTERMEDIATE = 4;

  /** What block k adds to every token state. Shifts cancel in pairs: 0+1 and 2+3 sum to zero. */
  static final float[][] LAYER_SHIFT = {
    {2, -2, 0},
    {-2, 2, 0},
    {0, 0, 4},
    {0, 0, -4},
  };

  /** The query bias on every axis: the scale of the scores, large enough that the strongest token takes all weight. */
  static final float QUERY_BIAS = 10;

  /** Block k's attention output projection, rows the context's axes, columns the output's. */
  static final float[][][] ATTENTION_OUTPUT = {
    new float[HIDDEN][HIDDEN],
    new float[HIDDEN][HIDDEN],
    {{0, 0, 0}, {0, 0, 0}, {0, 0, -0.25f}},
    new float[HIDDEN][HIDDEN],
  };

  static final WordTokenizer TOKENIZER =
      new WordTokenizer(List.of("a1", "a3", "a5", "b1", "b3", "b5", "c1", "c3", "c5"), false);

  private KnownAnswerModel() {}

  /** The embedding of a token id: the padding spike, zero for the other specials, S on the label's axis for words. */
  static float[] embedding(int id) {
    float[] e = new float[HIDDEN];
    if (id == WordTokenizer.PAD) {
      e[2] = 50;
    } else if (id >= WordTokenizer.FIRST_WORD) {
      String word = TOKENIZER.words().get(id - WordTokenizer.FIRST_WORD);
      e[LABELS.indexOf(word.substring(0, 1))] = Integer.parseInt(word.substring(1));
    }
    return e;
  }

  /**
   * The logits the classifier must give for a text with the blocks {@code skipped} accepts removed: the
   * forward pass of the description above, loop by loop in double precision on the text alone (so without
   * padding), sharing nothing with the graph or the tool.
   */
  static double[] expectedLogits(String text, IntPredicate skipped) {
    long[] ids = TOKENIZER.ids(text);
    int n = ids.length;
    double[][] h = new double[n][];
    for (int t = 0; t < n; t++) {
      float[] e = embedding((int) ids[t]);
      h[t] = new double[HIDDEN];
      for (int d = 0; d < HIDDEN; d++) {
        h[t][d] = e[d];
      }
    }
    for (int k = 0; k < LAYERS; k++) {
      if (skipped.test(k)) {
        continue;
      }
      double[][] next = new double[n][];
      for (int t = 0; t < n; t++) {
        double[] scores = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int s = 0; s < n; s++) {
          for (int d = 0; d < HIDDEN; d++) {
            scores[s] += QUERY_BIAS * h[s][d];
          }
          max = Math.max(max, scores[s]);
        }
        double total = 0;
        for (int s = 0; s < n; s++) {
          scores[s] = Math.exp(scores[s] - max);
          total += scores[s];
        }
        double[] context = new double[HIDDEN];
        for (int s = 0; s < n; s++) {
          for (int d = 0; d < HIDDEN; d++) {
            context[d] += scores[s] / total * h[s][d];
          }
        }
        next[t] = new double[HIDDEN];
        for (int o = 0; o < HIDDEN; o++) {
          double attended = h[t][o];
          for (int d = 0; d < HIDDEN; d++) {
            attended += context[d] * ATTENTION_OUTPUT[k][d][o];
          }
          next[t][o] = attended + LAYER_SHIFT[k][o];
        }
      }
      h = next;
    }
    double[] logits = new double[HIDDEN];
    for (double[] state : h) {
      for (int d = 0; d < HIDDEN; d++) {
        logits[d] += state[d] / n;
      }
    }
    return logits;
  }

  /** The classifier: encoder blocks as described, with a mean-pooling identity head from {@link HeadWriter}. */
  static OnnxModel build() {
    int rows = TOKENIZER.vocabularySize();
    float[][] table = new float[rows][];
    for (int id = 0; id < rows; id++) {
      table[id] = embedding(id);
    }
    List<BlockWeights> blocks = new ArrayList<>();
    for (int k = 0; k < LAYERS; k++) {
      blocks.add(new BlockWeights(ATTENTION_OUTPUT[k], new float[HIDDEN][INTERMEDIATE], new float[INTERMEDIATE],
          new float[INTERMEDIATE][HIDDEN], LAYER_SHIFT[k]));
    }
    float[][] identity = new float[HIDDEN][HIDDEN];
    for (int d = 0; d < HIDDEN; d++) {
      identity[d][d] = 1;
    }
    return build(table, blocks, identity, new float[HIDDEN], LABELS);
  }

  /**
   * One block's weights, beside the attention's fixed query (zero weights, bias {@link #QUERY_BIAS})
   * and keys (the token states): {@code h + context·attentionOutput}, then {@code + relu(x·up +
   * upBias)·down + downBias}.
   *
   * @param attentionOutput [hidden][hidden]
   * @param up [hidden][intermediate]
   * @param down [intermediate][hidden]
   */
  record BlockWeights(float[][] attentionOutput, float[][] up, float[] upBias, float[][] down, float[] downBias) {}

  /**
   * A classifier of encoder blocks of the shape described above, with the given weights, and a
   * mean-pooling linear head from {@link HeadWriter}.
   *
   * @param embeddings [vocabulary][hidden]
   * @param head [hidden][labels]
   */
  static OnnxModel build(float[][] embeddings, List<BlockWeights> blocks, float[][] head, float[] headBias, List<String> labels) {
    int hidden = embeddings[0].length;
    Builder b = new Builder();
    b.initializer("embeddings.word_embeddings.weight", new long[] {embeddings.length, hidden}, flat(embeddings));
    String h = b.node("Gather", "/embeddings/word_embeddings/Gather", List.of("embeddings.word_embeddings.weight", "input_ids"));

    // The additive key mask, computed once and read by every block: 0 for real tokens, -10000 for padding.
    b.initializer("one", new long[] {}, new float[] {1});
    b.initializer("mask_scale", new long[] {}, new float[] {-10000});
    b.longInitializer("mask_axes", new long[] {1}, new long[] {1});
    String maskFloat = b.node("Cast", "/mask/Cast", List.of("attention_mask"), intAttr("to", TensorProto.DataType.FLOAT_VALUE));
    String inverted = b.node("Sub", "/mask/Sub", List.of("one", maskFloat));
    String scaled = b.node("Mul", "/mask/Mul", List.of(inverted, "mask_scale"));
    String keyMask = b.node("Unsqueeze", "/mask/Unsqueeze", List.of(scaled, "mask_axes"));

    for (int k = 0; k < blocks.size(); k++) {
      BlockWeights w = blocks.get(k);
      int intermediate = w.upBias().length;
      String scope = "/encoder/layer." + k;
      String p = "encoder.layer." + k;
      float[] queryBias = new float[hidden];
      java.util.Arrays.fill(queryBias, QUERY_BIAS);
      b.initializer(p + ".attention.query.weight", new long[] {hidden, hidden}, new float[hidden * hidden]);
      b.initializer(p + ".attention.query.bias", new long[] {hidden}, queryBias);
      String queryLinear = b.node("MatMul", scope + "/attention/query/MatMul", List.of(h, p + ".attention.query.weight"));
      String query = b.node("Add", scope + "/attention/query/Add", List.of(queryLinear, p + ".attention.query.bias"));
      String keys = b.node("Transpose", scope + "/attention/Transpose", List.of(h), intsAttr("perm", 0, 2, 1));
      String scores = b.node("MatMul", scope + "/attention/MatMul", List.of(query, keys));
      String masked = b.node("Add", scope + "/attention/Add", List.of(scores, keyMask));
      String probs = b.node("Softmax", scope + "/attention/Softmax", List.of(masked), intAttr("axis", -1));
      String context = b.node("MatMul", scope + "/attention/MatMul_1", List.of(probs, h));
      b.initializer(p + ".attention.output.weight", new long[] {hidden, hidden}, flat(w.attentionOutput()));
      String projected = b.node("MatMul", scope + "/attention/output/MatMul", List.of(context, p + ".attention.output.weight"));
      String attended = b.node("Add", scope + "/attention/output/Add", List.of(h, projected));
      b.initializer(p + ".intermediate.weight", new long[] {hidden, intermediate}, flat(w.up()));
      b.initializer(p + ".intermediate.bias", new long[] {intermediate}, w.upBias());
      b.initializer(p + ".output.weight", new long[] {intermediate, hidden}, flat(w.down()));
      b.initializer(p + ".output.bias", new long[] {hidden}, w.downBias());
      String up = b.node("MatMul", scope + "/intermediate/MatMul", List.of(attended, p + ".intermediate.weight"));
      String upBiased = b.node("Add", scope + "/intermediate/Add", List.of(up, p + ".intermediate.bias"));
      String act = b.node("Relu", scope + "/intermediate/Relu", List.of(upBiased));
      String down = b.node("MatMul", scope + "/output/MatMul", List.of(act, p + ".output.weight"));
      String ffn = b.node("Add", scope + "/output/Add", List.of(down, p + ".output.bias"));
      h = b.node("Add", scope + "/output/Add_1", List.of(attended, ffn), k == blocks.size() - 1 ? "last_hidden_state" : null);
    }
    ModelProto encoder = b.model(
        List.of(valueInfo("input_ids", TensorProto.DataType.INT64, "batch", "sequence"),
            valueInfo("attention_mask", TensorProto.DataType.INT64, "batch", "sequence")),
        valueInfo("last_hidden_state", TensorProto.DataType.FLOAT, "batch", "sequence", hidden));
    return HeadWriter.append(OnnxModel.of(encoder), "last_hidden_state", "attention_mask", Pooling.MEAN, flat(head), headBias, labels);
  }

  /** A matrix row-major. */
  static float[] flat(float[][] rows) {
    int width = rows.length == 0 ? 0 : rows[0].length;
    float[] out = new float[rows.length * width];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(rows[r], 0, out, r * width, width);
    }
    return out;
  }

  static AttributeProto intAttr(String name, long value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
  }

  static AttributeProto intsAttr(String name, long... values) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long v : values) {
      a.addInts(v);
    }
    return a.build();
  }

  /** A graph input or output; a String dim is symbolic, a number fixed. */
  public static ValueInfoProto valueInfo(String name, TensorProto.DataType type, Object... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      if (d instanceof String symbol) {
        shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(symbol));
      } else {
        shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) d).longValue()));
      }
    }
    return ValueInfoProto.newBuilder().setName(name)
        .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape)))
        .build();
  }

  /** Nodes named by scope, outputs named after their node, as torch exports them. */
  private static final class Builder {
    private final List<NodeProto> nodes = new ArrayList<>();
    private final List<TensorProto> initializers = new ArrayList<>();

    String node(String opType, String name, List<String> inputs, AttributeProto... attributes) {
      return node(opType, name, inputs, null, attributes);
    }

    String node(String opType, String name, List<String> inputs, String output, AttributeProto... attributes) {
      String out = output != null ? output : name + "_output_0";
      nodes.add(NodeProto.newBuilder().setName(name).setOpType(opType).addAllInput(inputs).addOutput(out)
          .addAllAttribute(List.of(attributes)).build());
      return out;
    }

    void initializer(String name, long[] dims, float[] values) {
      ByteBuffer raw = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      for (float v : values) {
        raw.putFloat(v);
      }
      add(name, dims, TensorProto.DataType.FLOAT, raw.array());
    }

    void longInitializer(String name, long[] dims, long[] values) {
      ByteBuffer raw = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      for (long v : values) {
        raw.putLong(v);
      }
      add(name, dims, TensorProto.DataType.INT64, raw.array());
    }

    private void add(String name, long[] dims, TensorProto.DataType type, byte[] raw) {
      TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type.getNumber()).setRawData(ByteString.copyFrom(raw));
      for (long d : dims) {
        t.addDims(d);
      }
      initializers.add(t.build());
    }

    ModelProto model(List<ValueInfoProto> inputs, ValueInfoProto output) {
      GraphProto graph = GraphProto.newBuilder().setName("known-answer").addAllNode(nodes).addAllInitializer(initializers)
          .addAllInput(inputs).addOutput(output).build();
      return ModelProto.newBuilder().setIrVersion(8).setProducerName("onnx-skip-test").setGraph(graph)
          .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).build();
    }
  }
}
