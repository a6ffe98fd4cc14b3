package dev.onnxskip.testing;

import static dev.onnxskip.testing.GraphBuilder.integer;
import static dev.onnxskip.testing.GraphBuilder.ints;
import static dev.onnxskip.testing.GraphBuilder.real;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.ModelIO;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A BERT-shaped classifier of any size written straight to disk, its weights in one external-data
 * file beside the model, as {@code torch.onnx.export} writes a model over 2 GB. The weights come
 * from a fast seeded generator and are streamed to the file tensor by tensor, so a model larger
 * than the JVM's heap takes seconds to write and no memory to hold.
 *
 * <p>The graph is the post-LN encoder of {@link SyntheticBert} at opset 17 ({@code
 * LayerNormalization}, constant reshapes, exact GELU) with a masked mean-pool linear head, inputs
 * {@code input_ids} and {@code attention_mask}, output {@code logits}. Weights are uniform with
 * the spread of BERT's initialisation (standard deviation 0.02), layer-norm gains near 1.
 */
public final class StreamedBert {
  private StreamedBert() {}

  private static final int OPSET = 17;
  private static final float STD = 0.02f;
  private static final float MASK_VALUE = -Float.MAX_VALUE;

  /** What to write: sizes, label count and the seed of the weights. */
  public record Spec(int layers, int hidden, int heads, int intermediate, int vocab, int maxPositions, int numLabels, long seed) {

    /** Bytes of all float weights: what the data file holds. */
    public long weightBytes() {
      long perLayer = 4L * hidden * hidden + 2L * hidden * intermediate + 9L * hidden + intermediate;
      long embeddings = (long) (vocab + maxPositions + 2) * hidden;
      long head = (long) hidden * numLabels + numLabels;
      return Float.BYTES * (layers * perLayer + embeddings + head);
    }
  }

  /**
   * Writes the model to {@code model} and its weights to {@code dataFileName} beside it.
   *
   * @return the model file
   */
  public static Path write(Spec spec, Path model, String dataFileName) {
    Path data = model.resolveSibling(dataFileName);
    try (FileChannel out = FileChannel.open(data, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE)) {
      Writer w = new Writer(spec, new GraphBuilder(OPSET), new Weights(out, dataFileName, new SplittableRandom(spec.seed())));
      ModelIO.save(w.build().model("torch_jit"), model);
      return model;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Streams tensors to the data file, each at the offset where the last one ended. */
  private static final class Weights {
    private static final int CHUNK_FLOATS = 1 << 18;
    private final FileChannel out;
    private final String location;
    private final SplittableRandom random;
    private final ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK_FLOATS * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private long offset;

    Weights(FileChannel out, String location, SplittableRandom random) {
      this.out = out;
      this.location = location;
      this.random = random;
    }

    /** {@code count} values uniform around {@code centre} with standard deviation {@code std}. */
    ExternalData.Ref floats(long count, float centre, float std) throws IOException {
      float halfWidth = (float) (std * Math.sqrt(3));
      long start = offset;
      for (long done = 0; done < count; ) {
        int n = (int) Math.min(CHUNK_FLOATS, count - done);
        chunk.clear();
        for (int i = 0; i < n; i++) {
          // 24 random bits to a float in [-1, 1)
          float unit = (random.nextInt() >>> 8) * 0x1.0p-23f - 1f;
          chunk.putFloat(centre + halfWidth * unit);
        }
        chunk.flip();
        while (chunk.hasRemaining()) {
          out.write(chunk);
        }
        done += n;
      }
      offset += count * Float.BYTES;
      return new ExternalData.Ref(location, start, count * Float.BYTES);
    }
  }

  /** The graph, node by node, its weights written as they are declared. */
  private record Writer(Spec spec, GraphBuilder g, Weights weights) {

    GraphBuilder build() throws IOException {
      g.input(GraphBuilder.valueInfo("input_ids", TensorProto.DataType.INT64, "batch_size", "sequence_length"));
      g.input(GraphBuilder.valueInfo("attention_mask", TensorProto.DataType.INT64, "batch_size", "sequence_length"));
      String mask = extendedMask();
      String hidden = embeddings();
      for (int i = 0; i < spec.layers(); i++) {
        hidden = layer(i, hidden, mask);
      }
      String logits = linear("/classifier", meanPool(hidden), "classifier", spec.hidden(), spec.numLabels(), "logits");
      g.output(GraphBuilder.valueInfo(logits, TensorProto.DataType.FLOAT, "batch_size", spec.numLabels()));
      return g;
    }

    private String weight(String name, float centre, float std, long... dims) throws IOException {
      long count = 1;
      for (long d : dims) {
        count *= d;
      }
      return g.externalInitializer(name, TensorProto.DataType.FLOAT, dims, weights.floats(count, centre, std));
    }

    private String extendedMask() {
      String cast = g.op("", "Cast", List.of(g.unsqueeze("", g.unsqueeze("", "attention_mask", 1), 2)),
          integer("to", TensorProto.DataType.FLOAT_VALUE));
      return g.op("", "Mul", List.of(g.op("", "Sub", List.of(g.scalar("", 1f), cast)), g.scalar("", MASK_VALUE)));
    }

    private String embeddings() throws IOException {
      String scope = "/embeddings";
      String words = g.op(scope + "/word_embeddings", "Gather",
          List.of(weight("embeddings.word_embeddings.weight", 0, STD, spec.vocab(), spec.hidden()), "input_ids"));
      long[] range = new long[spec.maxPositions()];
      for (int i = 0; i < range.length; i++) {
        range[i] = i;
      }
      String positionIds = g.initializer("embeddings.position_ids", new long[] {1, spec.maxPositions()}, range);
      String seqLen = g.op(scope, "Gather", List.of(g.op(scope, "Shape", List.of("input_ids")), g.scalar(scope, 1L)), integer("axis", 0));
      String sliced = g.op(scope, "Slice", List.of(positionIds, g.vector(scope, 0), g.unsqueeze(scope, seqLen, 0), g.vector(scope, 1),
          g.vector(scope, 1)));
      String positions = g.op(scope + "/position_embeddings", "Gather",
          List.of(weight("embeddings.position_embeddings.weight", 0, STD, spec.maxPositions(), spec.hidden()), sliced));
      return layerNorm(scope + "/LayerNorm", g.op(scope, "Add", List.of(words, positions)), "embeddings.LayerNorm");
    }

    private String layer(int index, String input, String mask) throws IOException {
      String scope = "/encoder/layer." + index;
      String params = "encoder.layer." + index + ".";
      int h = spec.hidden();
      int headDim = h / spec.heads();
      String self = scope + "/attention/self";
      String query = heads(self, linear(self + "/query", input, params + "attention.self.query", h, h, null), 0, 2, 1, 3);
      String keyT = heads(self, linear(self + "/key", input, params + "attention.self.key", h, h, null), 0, 2, 3, 1);
      String value = heads(self, linear(self + "/value", input, params + "attention.self.value", h, h, null), 0, 2, 1, 3);
      String scores = g.op(self, "Div", List.of(g.op(self, "MatMul", List.of(query, keyT)), g.scalar(self, (float) Math.sqrt(headDim))));
      String probs = g.softmaxLastAxis(self, g.op(self, "Add", List.of(scores, mask)));
      String context = g.op(self, "Transpose", List.of(g.op(self, "MatMul", List.of(probs, value))), ints("perm", 0, 2, 1, 3));
      String merged = g.op(self, "Reshape", List.of(context, g.vector(self, 0, 0, h)));
      String attention = linear(scope + "/attention/output/dense", merged, params + "attention.output.dense", h, h, null);
      String attentionNorm = layerNorm(scope + "/attention/output/LayerNorm",
          g.op(scope + "/attention/output", "Add", List.of(attention, input)), params + "attention.output.LayerNorm");
      String inter = linear(scope + "/intermediate/dense", attentionNorm, params + "intermediate.dense", h, spec.intermediate(), null);
      String act = gelu(scope + "/intermediate/intermediate_act_fn", inter);
      String out = linear(scope + "/output/dense", act, params + "output.dense", spec.intermediate(), h, null);
      return layerNorm(scope + "/output/LayerNorm", g.op(scope + "/output", "Add", List.of(out, attentionNorm)), params + "output.LayerNorm");
    }

    /** x.view(batch, sequence, heads, head_dim) permuted. */
    private String heads(String scope, String x, long... perm) {
      String view = g.op(scope, "Reshape", List.of(x, g.vector(scope, 0, 0, spec.heads(), spec.hidden() / spec.heads())));
      return g.op(scope, "Transpose", List.of(view), ints("perm", perm));
    }

    private String linear(String scope, String x, String params, int in, int out, String outputName) throws IOException {
      String bias = weight(params + ".bias", 0, STD, out);
      String w = weight("onnx::MatMul_" + params, 0, STD, in, out);
      return g.op(scope, "Add", List.of(bias, g.op(scope, "MatMul", List.of(x, w))), outputName);
    }

    private String layerNorm(String scope, String x, String params) throws IOException {
      String gamma = weight(params + ".weight", 1, STD, spec.hidden());
      String beta = weight(params + ".bias", 0, STD, spec.hidden());
      return g.op(scope, "LayerNormalization", List.of(x, gamma, beta), integer("axis", -1), real("epsilon", 1e-12f));
    }

    private String gelu(String scope, String x) {
      String erf = g.op(scope, "Erf", List.of(g.op(scope, "Div", List.of(x, g.scalar(scope, (float) Math.sqrt(2))))));
      String product = g.op(scope, "Mul", List.of(x, g.op(scope, "Add", List.of(erf, g.scalar(scope, 1f)))));
      return g.op(scope, "Mul", List.of(product, g.scalar(scope, 0.5f)));
    }

    /** sum(h * mask) / clamp(sum(mask), 1e-9) over the sequence. */
    private String meanPool(String hidden) {
      String scope = "/pooling";
      String expanded = g.op(scope, "Expand", List.of(g.unsqueeze(scope, "attention_mask", -1), g.op(scope, "Shape", List.of(hidden))));
      String maskF = g.op(scope, "Cast", List.of(expanded), integer("to", TensorProto.DataType.FLOAT_VALUE));
      String sum = g.reduceSum(scope, g.op(scope, "Mul", List.of(hidden, maskF)), 1, false);
      String count = g.reduceSum(scope, maskF, 1, false);
      return g.op(scope, "Div", List.of(sum, g.op(scope, "Clip", List.of(count, g.scalar(scope, 1e-9f)))));
    }
  }
}
