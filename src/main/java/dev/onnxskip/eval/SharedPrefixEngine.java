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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Evaluates every skip span while computing each residual-stream state once per batch.
 *
 * <p>The model is split at the block boundaries into sub-models (embeddings, one per block, the
 * head), each of which recomputes the side inputs it needs, such as the attention mask, from the
 * token inputs. Per batch, the baseline pass keeps every boundary state h_0..h_L. A span S..E
 * then only needs blocks E+1..L-1 applied to h_S, and all spans ending at E share those blocks, so
 * their states are stacked along the batch axis and run together: L + Σ_E (E+1)(L-1-E) block
 * evaluations per example instead of the naive Σ (L - length).
 *
 * <p>The states live in one direct buffer per batch, h_0..h_L back to back, which every block
 * writes its output into (ONNX Runtime's pinned outputs), so no state passes through the Java heap,
 * and the stacked input h_0..h_E of the spans ending at E is a slice of that buffer, not a copy.
 * Stacks are cut to at most {@link #STACK_TOKENS} token rows (or one batch, if that is larger), so
 * memory is bounded by the batch and the layer count, whatever the data set and however many
 * spans there are.
 */
public final class SharedPrefixEngine implements EvalEngine, AutoCloseable {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /**
   * How many token rows (examples × padded length) a stacked suffix run may hold. On CPU the
   * matrix products of a single batch of ordinary size already run at full speed, so stacking
   * gains little there; this bound keeps the activations of a stacked run near those of a few
   * batches, while small batches (down to one example) still stack into products worth running.
   */
  static final int STACK_TOKENS = Integer.getInteger("onnxskip.stackTokens", 4096);

  private final EncoderLayout layout;
  private final ClassifierSignature signature;
  private final BatchSource batches;
  private final Part embeddings;
  private final List<Part> blocks = new ArrayList<>();
  private final Part head;
  private final int stackTokens;
  private final Set<String> tokenInputs = new java.util.HashSet<>();

  /** One sub-model session, the stream tensor it reads (none for the embeddings) and its output. */
  private record Part(OrtSession session, Optional<String> streamInput, String output, Set<String> inputs, String label) {}

  public SharedPrefixEngine(OnnxModel model, EncoderLayout layout, ClassifierSignature signature, Runtime runtime, BatchSource batches) {
    this(model, layout, signature, runtime, batches, STACK_TOKENS);
  }

  /** With another bound on the token rows of a stacked run, for tests that need stacks cut into chunks. */
  SharedPrefixEngine(OnnxModel model, EncoderLayout layout, ClassifierSignature signature, Runtime runtime, BatchSource batches, int stackTokens) {
    if (layout.streamElemType() != ai.onnx.proto.OnnxMl.TensorProto.DataType.FLOAT_VALUE) {
      throw new OnnxSkipException(model.describe() + ": the residual stream " + layout.boundary(0)
          + " is not float32; the shared engine stacks float32 states only (use --engine naive)");
    }
    this.layout = layout;
    this.signature = signature;
    this.batches = batches;
    this.stackTokens = stackTokens;
    OnnxModel inlined = ExternalData.inline(model);
    int layers = layout.layers();
    Part first = null;
    Part last = null;
    try (OrtSession.SessionOptions opts = options(runtime)) {
      first = open(SubModels.prefix(inlined, layout, 0), Optional.empty(), layout.boundary(0), opts, "the embeddings");
      for (int k = 0; k < layers; k++) {
        blocks.add(open(SubModels.extract(inlined, layout, List.of(layout.boundary(k)), List.of(layout.boundary(k + 1))),
            Optional.of(layout.boundary(k)), layout.boundary(k + 1), opts, "layer " + k));
      }
      last = open(SubModels.extract(inlined, layout, List.of(layout.boundary(layers)), List.of(signature.logitsOutput())),
          Optional.of(layout.boundary(layers)), signature.logitsOutput(), opts, "the classifier head");
    } catch (OrtException e) {
      closeAll(first, last);
      throw new OnnxSkipException("ONNX Runtime rejected the session options: " + VariantSession.firstLine(e.getMessage()), e);
    } catch (RuntimeException e) {
      closeAll(first, last);
      throw e;
    }
    embeddings = first;
    head = last;
    for (Part p : allParts()) {
      for (ClassifierSignature.TokenInput in : signature.inputs()) {
        if (p.inputs().contains(in.name())) {
          tokenInputs.add(in.name());
        }
      }
    }
  }

  /**
   * The runtime's options, plus two that only a split model needs. Each sub-model is its own
   * session, and each session would keep its own memory arena, grown to its largest run and never
   * given back: with L + 2 sessions that multiplies the peak memory. And each session has its own
   * intra-op thread pool whose workers spin for a while after a run, which on a machine with few
   * cores steals time from the next sub-model's workers.
   */
  private static OrtSession.SessionOptions options(Runtime runtime) throws OrtException {
    OrtSession.SessionOptions opts = runtime.sessionOptions();
    try {
      if (!Boolean.getBoolean("onnxskip.arena")) {
        opts.setCPUArenaAllocator(false);
      }
      if (!Boolean.getBoolean("onnxskip.spin")) {
        opts.addConfigEntry("session.intra_op.allow_spinning", "0");
      }
      return opts;
    } catch (OrtException | RuntimeException e) {
      opts.close();
      throw e;
    }
  }

  private static Part open(OnnxModel sub, Optional<String> streamInput, String output, OrtSession.SessionOptions opts, String label) {
    try {
      OrtSession s = ENV.createSession(sub.proto().toByteArray(), opts);
      return new Part(s, streamInput, output, s.getInputNames(), label);
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
    boolean wantBaseline = todo.contains(Optional.<SkipSpan>empty());
    // Spans grouped by their last skipped layer, starts ascending: they continue through the same
    // blocks, and consecutive starts are consecutive states in the state buffer.
    TreeMap<Integer, List<Integer>> startsByEnd = new TreeMap<>();
    int deepestStart = -1;
    for (Optional<SkipSpan> s : todo) {
      if (s.isPresent()) {
        startsByEnd.computeIfAbsent(s.get().end(), e -> new ArrayList<>()).add(s.get().start());
        deepestStart = Math.max(deepestStart, s.get().start());
      }
    }
    startsByEnd.values().forEach(java.util.Collections::sort);
    // The prefix runs only as deep as some variant reads it.
    int prefixDepth = wantBaseline ? layout.layers() : deepestStart;
    Buffers buffers = new Buffers();
    for (int b = 0; b < batches.batchCount(); b++) {
      if (skipBatches.contains(b)) {
        continue;
      }
      Batch batch = batches.batch(b);
      try (BatchRun run = new BatchRun(batch, buffers)) {
        run.prefix(prefixDepth);
        if (wantBaseline) {
          sink.done(Optional.empty(), batch.exampleIndices(), run.logits(run.states(layout.layers(), 1), 1));
        }
        for (Map.Entry<Integer, List<Integer>> group : startsByEnd.entrySet()) {
          run.suffixes(group.getKey(), group.getValue(), sink);
        }
      } catch (OrtException e) {
        throw new OnnxSkipException("ONNX Runtime failed in the split model: " + VariantSession.firstLine(e.getMessage()), e);
      }
      sink.flush();
      progress.examples(batch.batchSize() * todo.size());
    }
  }

  /** Direct float buffers kept from batch to batch, grown when a batch needs more. */
  private static final class Buffers {
    FloatBuffer states = direct(0);
    FloatBuffer[] scratch = {direct(0), direct(0)};

    static FloatBuffer atLeast(FloatBuffer current, long floats) {
      if (current.capacity() >= floats) {
        return current;
      }
      if (floats > Integer.MAX_VALUE / Float.BYTES) {
        throw new OnnxSkipException("a batch's layer states need " + floats * Float.BYTES / (1 << 20)
            + " MiB in one buffer, more than Java allows; use a smaller --batch-size or --max-length");
      }
      return direct((int) floats);
    }

    /** ONNX Runtime reads and writes a direct buffer in native order in place; any other it copies. */
    static FloatBuffer direct(int floats) {
      return ByteBuffer.allocateDirect(floats * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
  }

  /** The work on one batch: its token tensors by stack height, its states, its suffix runs. */
  private final class BatchRun implements AutoCloseable {
    private final Batch batch;
    private final Buffers buffers;
    private final int n;
    private final int seq;
    private final Map<Integer, Map<String, OnnxTensor>> tokensByCopies = new HashMap<>();
    private long hidden;
    private int maxCopies;

    BatchRun(Batch batch, Buffers buffers) {
      this.batch = batch;
      this.buffers = buffers;
      this.n = batch.batchSize();
      this.seq = batch.seqLen();
    }

    /** Floats in one state h_k of this batch. */
    private long stateSize() {
      return (long) n * seq * hidden;
    }

    /** Runs the embeddings and layers 0..depth-1, leaving h_0..h_depth in the state buffer. */
    void prefix(int depth) throws OrtException {
      try (OrtSession.Result result = embeddings.session().run(feeds(embeddings, 1, null))) {
        OnnxTensor h0 = (OnnxTensor) result.get(0);
        long[] shape = h0.getInfo().getShape();
        if (shape.length != 3 || shape[0] != n || shape[1] != seq) {
          throw new OnnxSkipException("the residual stream " + layout.boundary(0) + " has shape " + Arrays.toString(shape)
              + " for a batch of " + n + " x " + seq + " tokens; the shared engine needs [batch, sequence, hidden] (use --engine naive)");
        }
        hidden = shape[2];
        maxCopies = (int) Math.max(1, Math.min(layout.layers(), stackTokens / ((long) n * seq)));
        buffers.states = Buffers.atLeast(buffers.states, (layout.layers() + 1) * stateSize());
        for (int i = 0; i < 2; i++) {
          buffers.scratch[i] = Buffers.atLeast(buffers.scratch[i], maxCopies * stateSize());
        }
        slice(buffers.states, 0, stateSize()).put(h0.getFloatBuffer());
      }
      for (int k = 0; k < depth; k++) {
        runBlock(k, 1, states(k, 1), states(k + 1, 1));
      }
    }

    /** h_first..h_first+copies-1, stacked: a view of the state buffer. */
    FloatBuffer states(int first, int copies) {
      return slice(buffers.states, first * stateSize(), copies * stateSize());
    }

    /**
     * Runs every span ending at {@code end}: blocks end+1..L-1 and the head on the stacked states
     * of their starts, a stack of at most {@code maxCopies} at a time.
     */
    void suffixes(int end, List<Integer> starts, Sink sink) throws OrtException {
      for (int from = 0; from < starts.size(); from += maxCopies) {
        List<Integer> chunk = starts.subList(from, Math.min(starts.size(), from + maxCopies));
        int copies = chunk.size();
        FloatBuffer x;
        if (chunk.get(copies - 1) - chunk.get(0) == copies - 1) {
          x = states(chunk.get(0), copies);
        } else {
          // Starts with gaps (a list of spans, not all): gather them where no block writes first.
          x = slice(buffers.scratch[1], 0, copies * stateSize());
          for (int i = 0; i < copies; i++) {
            slice(x, i * stateSize(), stateSize()).put(states(chunk.get(i), 1));
          }
        }
        int spare = 0;
        for (int k = end + 1; k < layout.layers(); k++) {
          FloatBuffer y = slice(buffers.scratch[spare], 0, copies * stateSize());
          runBlock(k, copies, x, y);
          x = y;
          spare = 1 - spare;
        }
        float[][] logits = logits(x, copies);
        for (int i = 0; i < copies; i++) {
          sink.done(Optional.of(new SkipSpan(chunk.get(i), end)), batch.exampleIndices(), Arrays.copyOfRange(logits, i * n, (i + 1) * n));
        }
      }
    }

    private void runBlock(int k, int copies, FloatBuffer in, FloatBuffer out) throws OrtException {
      Part part = blocks.get(k);
      long[] shape = {(long) copies * n, seq, hidden};
      try (OnnxTensor input = OnnxTensor.createTensor(ENV, in, shape);
          OnnxTensor output = OnnxTensor.createTensor(ENV, out, shape);
          OrtSession.Result ignored = part.session().run(feeds(part, copies, input), Map.of(part.output(), output))) {
        // The block wrote its output into `out`.
      }
    }

    /** The head on {@code copies} stacked final states: one row of logits per example and copy. */
    float[][] logits(FloatBuffer in, int copies) throws OrtException {
      long[] shape = {(long) copies * n, seq, hidden};
      try (OnnxTensor input = OnnxTensor.createTensor(ENV, in, shape);
          OrtSession.Result result = head.session().run(feeds(head, copies, input))) {
        Object value = result.get(0).getValue();
        if (!(value instanceof float[][] logits) || logits.length != copies * n) {
          throw new OnnxSkipException("the classifier head's output '" + signature.logitsOutput()
              + "' is not float logits of shape [batch, labels]");
        }
        return logits;
      }
    }

    /** The part's inputs: the token tensors it reads, tiled {@code copies} times, and the stream. */
    private Map<String, OnnxTensor> feeds(Part part, int copies, OnnxTensor stream) throws OrtException {
      Map<String, OnnxTensor> tokens = tokensByCopies.get(copies);
      if (tokens == null) {
        tokens = TokenFeeds.create(signature.inputs(), tokenInputs, batch, copies);
        tokensByCopies.put(copies, tokens);
      }
      Map<String, OnnxTensor> feeds = new HashMap<>();
      for (String name : part.inputs()) {
        OnnxTensor t = tokens.get(name);
        if (t != null) {
          feeds.put(name, t);
        }
      }
      part.streamInput().ifPresent(name -> feeds.put(name, stream));
      return feeds;
    }

    @Override
    public void close() {
      tokensByCopies.values().forEach(m -> m.values().forEach(OnnxTensor::close));
    }
  }

  /** {@code length} floats of {@code buffer} from {@code offset}, as an independent view. */
  private static FloatBuffer slice(FloatBuffer buffer, long offset, long length) {
    return buffer.duplicate().position((int) offset).limit((int) (offset + length)).slice();
  }

  private List<Part> allParts() {
    List<Part> all = new ArrayList<>();
    all.add(embeddings);
    all.addAll(blocks);
    all.add(head);
    return all;
  }

  private void closeAll(Part first, Part last) {
    List<Part> all = new ArrayList<>(blocks);
    if (first != null) {
      all.add(first);
    }
    if (last != null) {
      all.add(last);
    }
    close(all);
  }

  private static void close(List<Part> parts) {
    for (Part p : parts) {
      try {
        p.session().close();
      } catch (OrtException e) {
        // Closing frees native memory; a failure here cannot lose results, which are journaled.
      }
    }
  }

  @Override
  public void close() {
    close(allParts());
  }
}
