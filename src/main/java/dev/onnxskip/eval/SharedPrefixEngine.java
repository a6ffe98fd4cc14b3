package dev.onnxskip.eval;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.SubModels;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Evaluates every skip span while computing each residual-stream state once per batch.
 *
 * <p>The model is split at the block boundaries into sub-models (embeddings, one per block, the
 * head), each of which recomputes the side inputs it needs, such as the attention mask, from the
 * token inputs. Per batch, the baseline pass keeps every boundary state h_0..h_L. A span S..E
 * then only needs blocks E+1..L-1 applied to h_S, and all spans ending at E share those blocks, so
 * their states are stacked along the batch axis and run together: larger matrix products, and
 * L + Σ_E (E+1)(L-1-E) block evaluations per example instead of the naive Σ (L - length).
 */
public final class SharedPrefixEngine implements EvalEngine, AutoCloseable {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  private final EncoderLayout layout;
  private final ClassifierSignature signature;
  private final BatchSource batches;
  private final Part embeddings;
  private final List<Part> blocks = new ArrayList<>();
  private final Part head;

  /** One sub-model session and the tensor it reads from the residual stream, if any. */
  private record Part(OrtSession session, Optional<String> streamInput, String output, Set<String> inputs) {}

  public SharedPrefixEngine(OnnxModel model, EncoderLayout layout, ClassifierSignature signature, Runtime runtime, BatchSource batches) {
    this.layout = layout;
    this.signature = signature;
    this.batches = batches;
    OnnxModel inlined = ExternalData.inline(model);
    int layers = layout.layers();
    try {
      embeddings = open(SubModels.prefix(inlined, layout, 0), Optional.empty(), layout.boundary(0), runtime, "the embeddings");
      for (int k = 0; k < layers; k++) {
        blocks.add(open(SubModels.extract(inlined, layout, List.of(layout.boundary(k)), List.of(layout.boundary(k + 1))),
            Optional.of(layout.boundary(k)), layout.boundary(k + 1), runtime, "layer " + k));
      }
      head = open(SubModels.extract(inlined, layout, List.of(layout.boundary(layers)), List.of(signature.logitsOutput())),
          Optional.of(layout.boundary(layers)), signature.logitsOutput(), runtime, "the classifier head");
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private static Part open(OnnxModel sub, Optional<String> streamInput, String output, Runtime runtime, String label) {
    try (OrtSession.SessionOptions opts = runtime.sessionOptions()) {
      OrtSession s = ENV.createSession(sub.proto().toByteArray(), opts);
      return new Part(s, streamInput, output, s.getInputNames());
    } catch (OrtException e) {
      throw new OnnxSkipException("ONNX Runtime cannot load " + label + " of the split model: " + VariantSession.firstLine(e.getMessage()), e);
    }
  }

  @Override
  public String name() {
    return "shared";
  }

  @Override
  public void run(List<Optional<SkipSpan>> todo, Set<Integer> skipBatches, Sink sink, Progress progress) {
    int layers = layout.layers();
    boolean wantBaseline = todo.contains(Optional.<SkipSpan>empty());
    // Spans grouped by their last skipped layer: they continue through the same blocks.
    Map<Integer, List<Integer>> startsByEnd = new LinkedHashMap<>();
    for (Optional<SkipSpan> s : todo) {
      s.ifPresent(span -> startsByEnd.computeIfAbsent(span.end(), e -> new ArrayList<>()).add(span.start()));
    }
    for (int b = 0; b < batches.batchCount(); b++) {
      if (skipBatches.contains(b)) {
        continue;
      }
      Batch batch = batches.batch(b);
      int n = batch.batchSize();
      int seq = batch.seqLen();
      float[][] states = new float[layers + 1][];
      states[0] = runPart(embeddings, batch, 1, null, seq);
      for (int k = 0; k < layers; k++) {
        states[k + 1] = runPart(blocks.get(k), batch, 1, states[k], seq);
      }
      if (wantBaseline) {
        sink.done(Optional.empty(), batch.exampleIndices(), rows(runPart(head, batch, 1, states[layers], seq), n));
      }
      for (Map.Entry<Integer, List<Integer>> group : startsByEnd.entrySet()) {
        int end = group.getKey();
        List<Integer> starts = group.getValue();
        float[] x = stack(states, starts);
        for (int k = end + 1; k < layers; k++) {
          x = runPart(blocks.get(k), batch, starts.size(), x, seq);
        }
        float[][] logits = rows(runPart(head, batch, starts.size(), x, seq), n * starts.size());
        for (int i = 0; i < starts.size(); i++) {
          float[][] part = java.util.Arrays.copyOfRange(logits, i * n, (i + 1) * n);
          sink.done(Optional.of(new SkipSpan(starts.get(i), end)), batch.exampleIndices(), part);
        }
      }
      sink.flush();
      progress.examples(n * todo.size());
    }
  }

  private static float[] stack(float[][] states, List<Integer> starts) {
    int size = states[0].length;
    float[] out = new float[size * starts.size()];
    for (int i = 0; i < starts.size(); i++) {
      System.arraycopy(states[starts.get(i)], 0, out, i * size, size);
    }
    return out;
  }

  private float[][] rows(float[] flat, int count) {
    int width = flat.length / count;
    float[][] out = new float[count][width];
    for (int i = 0; i < count; i++) {
      System.arraycopy(flat, i * width, out[i], 0, width);
    }
    return out;
  }

  /**
   * Runs a part on {@code copies} stacked copies of the batch: the token inputs are tiled, the
   * stream input is given already stacked.
   */
  private float[] runPart(Part part, Batch batch, int copies, float[] stream, int seq) {
    Map<String, OnnxTensor> feeds = new HashMap<>();
    long rowsCount = (long) batch.batchSize() * copies;
    try {
      feeds.putAll(TokenFeeds.create(signature.inputs(), part.inputs(), batch, copies));
      if (part.streamInput().isPresent()) {
        long hidden = stream.length / (rowsCount * seq);
        feeds.put(part.streamInput().get(), OnnxTensor.createTensor(ENV, FloatBuffer.wrap(stream), new long[] {rowsCount, seq, hidden}));
      }
      try (OrtSession.Result result = part.session().run(feeds)) {
        OnnxTensor out = (OnnxTensor) result.get(part.output()).orElseThrow();
        FloatBuffer fb = out.getFloatBuffer();
        float[] values = new float[fb.remaining()];
        fb.get(values);
        return values;
      }
    } catch (OrtException e) {
      throw new OnnxSkipException("ONNX Runtime failed in the split model (" + part.output() + "): " + VariantSession.firstLine(e.getMessage()), e);
    } finally {
      feeds.values().forEach(OnnxTensor::close);
    }
  }

  @Override
  public void close() {
    List<Part> all = new ArrayList<>(blocks);
    if (embeddings != null) {
      all.add(embeddings);
    }
    if (head != null) {
      all.add(head);
    }
    for (Part p : all) {
      try {
        p.session().close();
      } catch (OrtException e) {
        // Closing frees native memory; a failure here cannot lose results, which are journaled.
      }
    }
  }
}
