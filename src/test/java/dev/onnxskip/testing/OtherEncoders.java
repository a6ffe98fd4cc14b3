package dev.onnxskip.testing;

import static dev.onnxskip.testing.GraphBuilder.integer;
import static dev.onnxskip.testing.GraphBuilder.ints;
import static dev.onnxskip.testing.GraphBuilder.real;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.onnxskip.testing.SyntheticBert.LayerNorm;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Encoders laid out otherwise than BERT, for the layout reports to be checked on: ALBERT-style
 * (embeddings narrower than the stream, projected up by a Linear after the embedding LayerNorm,
 * and one layer's weights read by every layer) and pre-LN (each sub-layer normalizes its input on
 * the branch, the stream is a chain of residual Adds, and one LayerNorm follows the last layer).
 * Inputs are {@code input_ids} and {@code attention_mask}, the output {@code last_hidden_state};
 * the attention-mask arithmetic, reshape shapes and GELU are written as in {@link SyntheticBert}.
 * Weights are random but fixed by the seed, and do not depend on the LayerNorm form.
 */
public final class OtherEncoders {
  private OtherEncoders() {}

  /** Where each layer normalizes. */
  public enum Norms {
    /** After each residual Add, on the stream: BERT and ALBERT. */
    POST_LN,
    /** Before each sub-layer, on its branch, plus one final LayerNorm after the last layer. */
    PRE_LN
  }

  /**
   * What to build.
   *
   * @param embedding width of the embedding tables; when it differs from {@code hidden}, a Linear
   *     projects the normalized embeddings to the stream, as ALBERT does
   * @param sharedWeights every layer reads the same initializers, as ALBERT's do
   */
  public record Spec(int layers, int embedding, int hidden, int heads, int intermediate, int vocab, int maxPositions,
      Norms norms, LayerNorm layerNorm, boolean sharedWeights, long seed) {

    public Spec {
      if (layers < 1 || heads < 1 || hidden % heads != 0 || embedding < 1 || intermediate < 1 || vocab < 3 || maxPositions < 16) {
        throw new IllegalArgumentException("invalid spec " + layers + " layers, hidden " + hidden + ", heads " + heads);
      }
    }

    /** ALBERT-style: 64-wide embeddings projected to a 256-wide stream, 4 heads, one shared post-LN layer. */
    public static Spec albert(int layers) {
      return new Spec(layers, 64, 256, 4, 512, 100, 32, Norms.POST_LN, LayerNorm.DECOMPOSED, true, 3);
    }

    /** Pre-LN with its own weights per layer: hidden 16, 2 heads. */
    public static Spec preLn(int layers, LayerNorm layerNorm) {
      return new Spec(layers, 16, 16, 2, 32, 64, 32, Norms.PRE_LN, layerNorm, false, 4);
    }

    public int opset() {
      return layerNorm == LayerNorm.OP ? 17 : 11;
    }

    /**
     * Elements of one layer's weights: Q, K, V and output projections, the two FFN Linears and two
     * LayerNorms' gamma and beta.
     */
    public long layerParameters() {
      long h = hidden;
      long f = intermediate;
      return 4 * (h * h + h) + (h * f + f) + (f * h + h) + 4 * h;
    }
  }

  /**
   * A model and its residual-stream tensors: element k is the input of layer k, the last the output
   * of the last layer (before the final LayerNorm of a pre-LN model).
   */
  public record Built(ModelProto model, List<String> boundaries) {
    public Built {
      boundaries = List.copyOf(boundaries);
    }
  }

  public static Built build(Spec spec) {
    return new Writer(spec).build();
  }

  private static final class Writer {
    private static final String OUTPUT = "last_hidden_state";
    private final Spec spec;
    private final GraphBuilder g;
    private final Random random;
    /** Initializers by parameter name, so that shared layers read one tensor. */
    private final Map<String, String> written = new HashMap<>();

    Writer(Spec spec) {
      this.spec = spec;
      this.g = new GraphBuilder(spec.opset());
      this.random = new Random(spec.seed());
    }

    Built build() {
      g.input(GraphBuilder.valueInfo("input_ids", TensorProto.DataType.INT64, "batch_size", "sequence_length"));
      g.input(GraphBuilder.valueInfo("attention_mask", TensorProto.DataType.INT64, "batch_size", "sequence_length"));
      String mask = extendedMask();
      List<String> boundaries = new ArrayList<>();
      String stream = embeddings();
      boundaries.add(stream);
      for (int k = 0; k < spec.layers(); k++) {
        boolean last = k == spec.layers() - 1;
        stream = spec.norms() == Norms.POST_LN
            ? postLnLayer(k, stream, mask, last ? OUTPUT : null)
            : preLnLayer(k, stream, mask);
        boundaries.add(stream);
      }
      if (spec.norms() == Norms.PRE_LN) {
        layerNorm("/encoder/LayerNorm", stream, "encoder.LayerNorm", spec.hidden(), OUTPUT);
      }
      g.output(GraphBuilder.valueInfo(OUTPUT, TensorProto.DataType.FLOAT, "batch_size", "sequence_length", spec.hidden()));
      return new Built(g.model("torch_jit"), boundaries);
    }

    private String extendedMask() {
      String unsqueezed = g.unsqueeze("", g.unsqueeze("", "attention_mask", 1), 2);
      String cast = g.op("", "Cast", List.of(unsqueezed), integer("to", TensorProto.DataType.FLOAT_VALUE));
      String inverted = g.op("", "Sub", List.of(g.scalar("", 1f), cast));
      return g.op("", "Mul", List.of(inverted, g.scalar("", -10000f)));
    }

    private String embeddings() {
      String scope = "/embeddings";
      String words = g.op(scope + "/word_embeddings", "Gather",
          List.of(weight("embeddings.word_embeddings.weight", spec.vocab(), spec.embedding()), "input_ids"));
      String positionIds = g.initializer("embeddings.position_ids", new long[] {1, spec.maxPositions()}, range(spec.maxPositions()));
      String seqLen = g.op(scope, "Gather", List.of(g.op(scope, "Shape", List.of("input_ids")), g.scalar(scope, 1L)),
          integer("axis", 0));
      String sliced = g.op(scope, "Slice", List.of(positionIds, g.vector(scope, 0), g.unsqueeze(scope, seqLen, 0),
          g.vector(scope, 1), g.vector(scope, 1)));
      String positions = g.op(scope + "/position_embeddings", "Gather",
          List.of(weight("embeddings.position_embeddings.weight", spec.maxPositions(), spec.embedding()), sliced));
      String sum = g.op(scope, "Add", List.of(words, positions));
      String normalized = layerNorm(scope + "/LayerNorm", sum, "embeddings.LayerNorm", spec.embedding(), null);
      if (spec.embedding() == spec.hidden()) {
        return normalized;
      }
      return linear("/encoder/embedding_hidden_mapping_in", normalized, "encoder.embedding_hidden_mapping_in",
          spec.embedding(), spec.hidden(), null);
    }

    /** The scope of layer k; ALBERT's one shared layer is called again and again under one scope. */
    private String scope(int k) {
      return spec.sharedWeights() ? "/encoder/albert_layer_groups.0/albert_layers.0" : "/encoder/layer." + k;
    }

    private String params(int k) {
      return spec.sharedWeights() ? "encoder.albert_layer_groups.0.albert_layers.0." : "encoder.layer." + k + ".";
    }

    private String postLnLayer(int k, String x, String mask, String outputName) {
      String attention = attention(scope(k) + "/attention", params(k) + "attention.", x, mask);
      String h = layerNorm(scope(k) + "/attention/LayerNorm", g.op(scope(k) + "/attention", "Add", List.of(attention, x)),
          params(k) + "attention.LayerNorm", spec.hidden(), null);
      String ffn = feedForward(scope(k), params(k), h);
      return layerNorm(scope(k) + "/output/LayerNorm", g.op(scope(k) + "/output", "Add", List.of(ffn, h)),
          params(k) + "output.LayerNorm", spec.hidden(), outputName);
    }

    private String preLnLayer(int k, String x, String mask) {
      String a = layerNorm(scope(k) + "/attention_norm", x, params(k) + "attention_norm", spec.hidden(), null);
      String h = g.op(scope(k), "Add", List.of(x, attention(scope(k) + "/attention", params(k) + "attention.", a, mask)));
      String b = layerNorm(scope(k) + "/ffn_norm", h, params(k) + "ffn_norm", spec.hidden(), null);
      return g.op(scope(k), "Add", List.of(h, feedForward(scope(k), params(k), b)));
    }

    /** Multi-head self-attention with constant reshape shapes, up to the output projection. */
    private String attention(String scope, String prefix, String x, String mask) {
      int h = spec.hidden();
      int headDim = h / spec.heads();
      String q = heads(scope, linear(scope + "/query", x, prefix + "query", h, h, null), ints("perm", 0, 2, 1, 3));
      String kT = heads(scope, linear(scope + "/key", x, prefix + "key", h, h, null), ints("perm", 0, 2, 3, 1));
      String v = heads(scope, linear(scope + "/value", x, prefix + "value", h, h, null), ints("perm", 0, 2, 1, 3));
      String scores = g.op(scope, "Div", List.of(g.op(scope, "MatMul", List.of(q, kT)), g.scalar(scope, (float) Math.sqrt(headDim))));
      String probs = g.softmaxLastAxis(scope, g.op(scope, "Add", List.of(scores, mask)));
      String context = g.op(scope, "Transpose", List.of(g.op(scope, "MatMul", List.of(probs, v))), ints("perm", 0, 2, 1, 3));
      String merged = g.op(scope, "Reshape", List.of(context, g.vector(scope, 0, 0, h)));
      return linear(scope + "/dense", merged, prefix + "dense", h, h, null);
    }

    private String heads(String scope, String x, ai.onnx.proto.OnnxMl.AttributeProto perm) {
      String split = g.op(scope, "Reshape", List.of(x, g.vector(scope, 0, 0, spec.heads(), spec.hidden() / spec.heads())));
      return g.op(scope, "Transpose", List.of(split), perm);
    }

    private String feedForward(String scope, String prefix, String x) {
      String inter = linear(scope + "/intermediate/dense", x, prefix + "intermediate.dense", spec.hidden(), spec.intermediate(), null);
      String gelu = gelu(scope + "/intermediate/intermediate_act_fn", inter);
      return linear(scope + "/output/dense", gelu, prefix + "output.dense", spec.intermediate(), spec.hidden(), null);
    }

    private String linear(String scope, String x, String prefix, int in, int out, String outputName) {
      String w = weight(prefix + ".weight", in, out);
      String b = weight(prefix + ".bias", out);
      return g.op(scope, "Add", List.of(b, g.op(scope, "MatMul", List.of(x, w))), outputName);
    }

    private String layerNorm(String scope, String x, String prefix, int width, String outputName) {
      String gamma = written.computeIfAbsent(prefix + ".weight", n -> g.initializer(n, new long[] {width}, ones(width)));
      String beta = weight(prefix + ".bias", width);
      if (spec.layerNorm() == LayerNorm.OP) {
        return g.op(scope, "LayerNormalization", List.of(x, gamma, beta), outputName, integer("axis", -1), real("epsilon", 1e-12f));
      }
      String mean = g.reduceMeanLastAxis(scope, x);
      String centered = g.op(scope, "Sub", List.of(x, mean));
      String variance = g.reduceMeanLastAxis(scope, g.op(scope, "Pow", List.of(centered, g.scalar(scope, 2f))));
      String std = g.op(scope, "Sqrt", List.of(g.op(scope, "Add", List.of(variance, g.scalar(scope, 1e-12f)))));
      String normalized = g.op(scope, "Div", List.of(centered, std));
      return g.op(scope, "Add", List.of(g.op(scope, "Mul", List.of(normalized, gamma)), beta), outputName);
    }

    private String gelu(String scope, String x) {
      String erf = g.op(scope, "Erf", List.of(g.op(scope, "Div", List.of(x, g.scalar(scope, (float) Math.sqrt(2))))));
      String product = g.op(scope, "Mul", List.of(x, g.op(scope, "Add", List.of(erf, g.scalar(scope, 1f)))));
      return g.op(scope, "Mul", List.of(product, g.scalar(scope, 0.5f)));
    }

    /** A random weight, written once under its parameter name and read by every layer that names it. */
    private String weight(String name, long... dims) {
      return written.computeIfAbsent(name, n -> {
        int count = 1;
        for (long d : dims) {
          count *= (int) d;
        }
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
          values[i] = (float) random.nextGaussian() * 0.1f;
        }
        return g.initializer(n, dims, values);
      });
    }

    private static float[] ones(int n) {
      float[] v = new float[n];
      java.util.Arrays.fill(v, 1f);
      return v;
    }

    private static long[] range(int n) {
      long[] v = new long[n];
      for (int i = 0; i < n; i++) {
        v[i] = i;
      }
      return v;
    }
  }
}
