package dev.onnxskip.testing;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.onnxskip.testing.SyntheticBert.Inputs;
import dev.onnxskip.testing.SyntheticBert.Naming;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;

/**
 * A plain, loop-by-loop BERT forward pass in double precision that reads its parameters out of a torch-form
 * synthetic model: the independent check that the graph computes a real BERT (embeddings, attention with a
 * key mask, erf GELU, post-norm residuals, heads) rather than something that merely runs. Linear weights are
 * found through the MatMul/Add nodes of the module (the weight's own name, {@code onnx::MatMul_N}, says
 * nothing), layer-norm parameters and embedding tables by their PyTorch names. It shares no code with the
 * graph IR or the rewrite, so it can also tell what a model with layers skipped must compute.
 */
public final class ReferenceBert {

  private static final double EPSILON = 1e-12;

  private final Spec spec;
  private final Map<String, TensorProto> initializers = new HashMap<>();
  private final Map<String, NodeProto> nodes = new HashMap<>();
  private final String root;
  private final String params;
  private final boolean distil;

  public ReferenceBert(ModelProto model, Spec spec) {
    if (spec.naming() == Naming.ANONYMOUS || spec.naming() == Naming.SCRAMBLED) {
      throw new IllegalArgumentException("the reference finds parameters by their torch names");
    }
    this.spec = spec;
    model.getGraph().getInitializerList().forEach(t -> initializers.put(t.getName(), t));
    model.getGraph().getNodeList().forEach(n -> nodes.put(n.getName(), n));
    this.distil = spec.naming() == Naming.DISTILBERT;
    this.root = switch (spec.naming()) {
      case BERT -> "bert";
      case ROBERTA -> "roberta";
      case DISTILBERT -> "distilbert";
      default -> "";
    };
    this.params = root.isEmpty() ? "" : root + ".";
  }

  /** The residual stream: element k is the input of layer k, the last the output of the last layer. */
  List<double[][][]> boundaries(Inputs inputs) {
    List<double[][][]> stream = new ArrayList<>();
    double[][][] hidden = embeddings(inputs);
    stream.add(hidden);
    for (int layer = 0; layer < spec.layers(); layer++) {
      hidden = layer(layer, hidden, inputs.attentionMask());
      stream.add(hidden);
    }
    return stream;
  }

  /**
   * The encoder's output with the layers {@code skipped} accepts replaced by the identity: each
   * skipped layer passes its input on unchanged, as a skip variant's rewired residual stream does.
   */
  public double[][][] encode(Inputs inputs, IntPredicate skipped) {
    double[][][] hidden = embeddings(inputs);
    for (int layer = 0; layer < spec.layers(); layer++) {
      if (!skipped.test(layer)) {
        hidden = layer(layer, hidden, inputs.attentionMask());
      }
    }
    return hidden;
  }

  /** The head's logits for the last boundary. */
  public double[][] logits(double[][][] hidden, Inputs inputs) {
    int batch = hidden.length;
    double[][] logits = new double[batch][];
    for (int b = 0; b < batch; b++) {
      logits[b] = switch (spec.head()) {
        case MEAN_POOL_CLASSIFIER -> linear("/classifier", meanPool(hidden[b], inputs.attentionMask()[b]));
        case CLS_CLASSIFIER -> clsHead(hidden[b][0]);
        case NONE -> throw new IllegalStateException("no head");
      };
    }
    return logits;
  }

  private double[][][] embeddings(Inputs inputs) {
    String prefix = params + "embeddings.";
    float[] word = initializer(prefix + "word_embeddings.weight");
    float[] position = initializer(prefix + "position_embeddings.weight");
    float[] tokenType = distil ? null : initializer(prefix + "token_type_embeddings.weight");
    int h = spec.hidden();
    long[][] ids = inputs.inputIds();
    double[][][] out = new double[ids.length][ids[0].length][];
    for (int b = 0; b < ids.length; b++) {
      long[] positions = positionIds(ids[b]);
      for (int t = 0; t < ids[b].length; t++) {
        int type = inputs.tokenTypeIds() == null ? 0 : (int) inputs.tokenTypeIds()[b][t];
        double[] sum = new double[h];
        for (int i = 0; i < h; i++) {
          sum[i] = word[(int) ids[b][t] * h + i] + position[(int) positions[t] * h + i];
          if (tokenType != null) {
            sum[i] += tokenType[type * h + i];
          }
        }
        out[b][t] = layerNorm(sum, prefix + "LayerNorm");
      }
    }
    return out;
  }

  /** 0..n-1; RoBERTa counts only non-padding tokens and starts after its padding id. */
  private long[] positionIds(long[] ids) {
    long[] positions = new long[ids.length];
    long padding = spec.paddingId();
    long count = 0;
    for (int t = 0; t < ids.length; t++) {
      if (spec.naming() != Naming.ROBERTA) {
        positions[t] = t;
      } else if (ids[t] == padding) {
        positions[t] = padding;
      } else {
        positions[t] = padding + ++count;
      }
    }
    return positions;
  }

  private double[][][] layer(int index, double[][][] input, long[][] mask) {
    String scope = distil ? "/distilbert/transformer/layer." + index : prefixScope() + "/encoder/layer." + index;
    String prefix = distil ? params + "transformer.layer." + index + "." : params + "encoder.layer." + index + ".";
    String attention = distil ? scope + "/attention" : scope + "/attention/self";
    String q = distil ? "/q_lin" : "/query";
    String k = distil ? "/k_lin" : "/key";
    String v = distil ? "/v_lin" : "/value";
    String attentionOut = distil ? "/attention/out_lin" : "/attention/output/dense";
    String attentionNorm = distil ? "sa_layer_norm" : "attention.output.LayerNorm";
    String intermediate = distil ? "/ffn/lin1" : "/intermediate/dense";
    String output = distil ? "/ffn/lin2" : "/output/dense";
    String outputNorm = distil ? "output_layer_norm" : "output.LayerNorm";

    int heads = spec.heads();
    int dh = spec.hidden() / heads;
    double[][][] result = new double[input.length][][];
    for (int b = 0; b < input.length; b++) {
      double[][] x = input[b];
      int seq = x.length;
      double[][] query = new double[seq][];
      double[][] key = new double[seq][];
      double[][] value = new double[seq][];
      for (int t = 0; t < seq; t++) {
        query[t] = linear(attention + q, x[t]);
        key[t] = linear(attention + k, x[t]);
        value[t] = linear(attention + v, x[t]);
      }
      result[b] = new double[seq][];
      for (int t = 0; t < seq; t++) {
        double[] context = new double[spec.hidden()];
        for (int head = 0; head < heads; head++) {
          double[] weights = new double[seq];
          double max = Double.NEGATIVE_INFINITY;
          for (int s = 0; s < seq; s++) {
            if (mask[b][s] == 0) {
              continue;  // a masked key gets no weight at all
            }
            double dot = 0;
            for (int i = 0; i < dh; i++) {
              dot += query[t][head * dh + i] * key[s][head * dh + i];
            }
            weights[s] = dot / Math.sqrt(dh);
            max = Math.max(max, weights[s]);
          }
          double total = 0;
          for (int s = 0; s < seq; s++) {
            weights[s] = mask[b][s] == 0 ? 0 : Math.exp(weights[s] - max);
            total += weights[s];
          }
          for (int s = 0; s < seq; s++) {
            for (int i = 0; i < dh; i++) {
              context[head * dh + i] += weights[s] / total * value[s][head * dh + i];
            }
          }
        }
        double[] attended = layerNorm(add(linear(scope + attentionOut, context), x[t]), prefix + attentionNorm);
        double[] inner = linear(scope + intermediate, attended);
        for (int i = 0; i < inner.length; i++) {
          inner[i] = 0.5 * inner[i] * (1 + erf(inner[i] / Math.sqrt(2)));
        }
        result[b][t] = layerNorm(add(linear(scope + output, inner), attended), prefix + outputNorm);
      }
    }
    return result;
  }

  private String prefixScope() {
    return root.isEmpty() ? "" : "/" + root;
  }

  private double[] meanPool(double[][] hidden, long[] mask) {
    double[] sum = new double[spec.hidden()];
    double count = 0;
    for (int t = 0; t < hidden.length; t++) {
      for (int i = 0; i < sum.length; i++) {
        sum[i] += hidden[t][i] * mask[t];
      }
      count += mask[t];
    }
    for (int i = 0; i < sum.length; i++) {
      sum[i] /= Math.max(count, 1e-9);
    }
    return sum;
  }

  private double[] clsHead(double[] first) {
    switch (spec.naming()) {
      case ROBERTA -> {
        return linear("/classifier/out_proj", tanh(linear("/classifier/dense", first)));
      }
      case DISTILBERT -> {
        double[] dense = linear("/pre_classifier", first);
        for (int i = 0; i < dense.length; i++) {
          dense[i] = Math.max(0, dense[i]);
        }
        return linear("/classifier", dense);
      }
      default -> {
        return linear("/classifier", tanh(linear(prefixScope() + "/pooler/dense", first)));
      }
    }
  }

  /** y = x · W + b for the Linear whose MatMul and Add nodes live in {@code scope}. */
  private double[] linear(String scope, double[] x) {
    float[] weight = initializer(node(scope + "/MatMul").getInput(1));
    float[] bias = initializer(node(scope + "/Add").getInput(0));
    double[] y = new double[bias.length];
    for (int o = 0; o < y.length; o++) {
      double sum = bias[o];
      for (int i = 0; i < x.length; i++) {
        sum += x[i] * weight[i * y.length + o];
      }
      y[o] = sum;
    }
    return y;
  }

  private double[] layerNorm(double[] x, String paramPrefix) {
    float[] gamma = initializer(paramPrefix + ".weight");
    float[] beta = initializer(paramPrefix + ".bias");
    double mean = 0;
    for (double v : x) {
      mean += v / x.length;
    }
    double variance = 0;
    for (double v : x) {
      variance += (v - mean) * (v - mean) / x.length;
    }
    double[] y = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = (x[i] - mean) / Math.sqrt(variance + EPSILON) * gamma[i] + beta[i];
    }
    return y;
  }

  private static double[] add(double[] a, double[] b) {
    double[] sum = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      sum[i] = a[i] + b[i];
    }
    return sum;
  }

  private static double[] tanh(double[] x) {
    double[] y = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = Math.tanh(x[i]);
    }
    return y;
  }

  /** Abramowitz and Stegun 7.1.26: absolute error below 1.5e-7, far inside the tests' tolerance. */
  static double erf(double x) {
    double t = 1 / (1 + 0.3275911 * Math.abs(x));
    double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    double y = 1 - poly * Math.exp(-x * x);
    return x >= 0 ? y : -y;
  }

  private NodeProto node(String name) {
    NodeProto node = nodes.get(name);
    if (node == null) {
      throw new IllegalArgumentException("no node " + name);
    }
    return node;
  }

  private float[] initializer(String name) {
    TensorProto tensor = initializers.get(name);
    if (tensor == null) {
      throw new IllegalArgumentException("no initializer " + name);
    }
    FloatBuffer raw = tensor.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] values = new float[raw.remaining()];
    raw.get(values);
    return values;
  }
}
