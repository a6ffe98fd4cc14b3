package dev.onnxskip.eval;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.data.Batch;
import dev.onnxskip.data.BatchSource;
import dev.onnxskip.graph.ElementType;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.SubModels;
import dev.onnxskip.rewrite.SwitchedLayers;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.ClassifierOutputs;
import dev.onnxskip.runtime.ClassifierSignature;
import dev.onnxskip.runtime.ModelSession;
import dev.onnxskip.runtime.OrtErrors;
import dev.onnxskip.runtime.OrtRuntime;
import dev.onnxskip.runtime.Resources;
import dev.onnxskip.runtime.TokenFeeds;
import dev.onnxskip.runtime.VariantSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Evaluates every skip span while computing each residual-stream state once per batch.
 *
 * <p>Per batch, the baseline pass keeps every boundary state h_0..h_L. A span S..E then only needs
 * blocks E+1..L-1 and the head applied to h_S, and all spans ending at E share those blocks, so
 * their states are stacked along the batch axis and run together: L + Σ_E (E+1)(L-1-E) block
 * evaluations per example instead of the naive Σ (L - length).
 *
 * <p>The model runs as two sessions: the embeddings, and the rest of the model rewritten so that
 * every block sits in an {@code If} that either runs it or passes its input through. The baseline
 * pass switches every block on; a suffix run switches on blocks E+1..L-1 only, so its input goes
 * unchanged to block E+1. The side inputs, such as the attention mask, are computed in the same
 * graph from the token inputs, which a stacked run receives tiled. Splitting the model into one
 * session per block would be simpler, but each ONNX Runtime session keeps its own memory arena and
 * thread pool: L + 2 of them hold several times the memory of one, and without arenas every run
 * pays for fresh pages. Building one graph with a copy of the suffix for every end layer (a
 * "fan-out" graph) makes a graph of thousands of nodes for twelve layers, slow to load, and fixes
 * the stacks' sizes when the session is made.
 *
 * <p>The states live in one direct buffer per batch, h_0..h_L back to back; the baseline pass
 * writes them there (ONNX Runtime's pinned outputs), and the stacked input h_S..h_S+m-1 of spans
 * ending at E is a slice of that buffer, not a copy. Stacks are cut to at most {@link
 * #STACK_TOKENS} token rows (or one stack of a single state, if the batch alone is larger), so
 * memory is bounded by the batch size and the layer count, whatever the data set and however many
 * spans there are.
 */
public final class SharedPrefixEngine implements EvalEngine, AutoCloseable {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /**
   * How many token rows (examples × padded length) one stacked run may hold: a default batch (32)
   * at the default max length (128). On CPU the matrix products of such a run already go at full
   * speed, so stacking more only grows the activations; smaller batches still stack up to it.
   */
  static final int STACK_TOKENS = 4096;

  private final EncoderLayout layout;
  private final ClassifierSignature signature;
  private final BatchSource batches;
  private final int stackTokens;
  private final ModelSession embeddings;
  private final ModelSession encoder;
  private final Set<String> tokenInputs = new HashSet<>();
  private final OnnxTensor runLayer;
  private final OnnxTensor skipLayer;
  private final Wanted wanted;
  /** What the baseline pass fetches by name: the logits and the head's features where wanted. */
  private final Set<String> headOutputs = new LinkedHashSet<>();
  /** What a suffix run fetches: the head's outputs, and the final state where the layer metrics want it. */
  private final Set<String> suffixOutputs = new LinkedHashSet<>();

  public SharedPrefixEngine(OnnxModel model, EncoderLayout layout, ClassifierSignature signature, OrtRuntime runtime, BatchSource batches,
      Wanted wanted) {
    this(model, layout, signature, runtime, batches, wanted, STACK_TOKENS);
  }

  /** With another bound on the token rows of a stacked run, for tests that need stacks cut into chunks. */
  SharedPrefixEngine(OnnxModel model, EncoderLayout layout, ClassifierSignature signature, OrtRuntime runtime, BatchSource batches,
      Wanted wanted, int stackTokens) {
    if (layout.streamElemType() != ElementType.FLOAT) {
      throw new OnnxSkipException(model.describe() + ": the residual stream " + layout.boundary(0)
          + " is not float32; the shared engine stacks float32 states only (use --engine naive)");
    }
    this.layout = layout;
    this.signature = signature;
    this.batches = batches;
    this.stackTokens = stackTokens;
    this.wanted = wanted;
    headOutputs.add(signature.logitsOutput());
    wanted.headFeatures().ifPresent(headOutputs::add);
    suffixOutputs.addAll(headOutputs);
    if (wanted.layerStates()) {
      suffixOutputs.add(layout.boundary(layout.layers()));
    }
    OnnxModel switched = SwitchedLayers.apply(model, layout, headOutputs.toArray(String[]::new));
    List<AutoCloseable> opened = new ArrayList<>();
    try {
      embeddings = open(SubModels.prefix(model, layout, 0), runtime, "the embeddings", opened);
      encoder = open(switched, runtime, "the layers and head", opened);
      runLayer = OnnxTensor.createTensor(ENV, true);
      opened.add(runLayer);
      skipLayer = OnnxTensor.createTensor(ENV, false);
      opened.add(skipLayer);
    } catch (OrtException | RuntimeException e) {
      Resources.closeAllAfter(e, opened);
      throw e instanceof OrtException
          ? new OnnxSkipException("ONNX Runtime cannot set up the shared engine: " + OrtErrors.oneLine(e.getMessage()), e)
          : (RuntimeException) e;
    }
    for (ClassifierSignature.TokenInput in : signature.inputs()) {
      if (embeddings.session().getInputNames().contains(in.name()) || encoder.session().getInputNames().contains(in.name())) {
        tokenInputs.add(in.name());
      }
    }
  }

  private static ModelSession open(OnnxModel sub, OrtRuntime runtime, String label, List<AutoCloseable> opened) {
    try {
      ModelSession s = ModelSession.open(sub, runtime);
      opened.add(s);
      return s;
    } catch (OrtException e) {
      throw new OnnxSkipException("ONNX Runtime cannot load " + label + " of the shared engine's model: " + OrtErrors.oneLine(e.getMessage()), e);
    }
  }

  @Override
  public void run(List<Variant> todo, Set<Integer> skipBatches, Sink sink, Progress progress) {
    boolean wantBaseline = todo.contains(Variant.BASELINE);
    // Spans grouped by their last skipped layer, starts ascending: they continue through the same
    // blocks, and consecutive starts are consecutive states in the state buffer.
    TreeMap<Integer, List<Integer>> startsByEnd = new TreeMap<>();
    int deepestStart = 0;
    for (Variant v : todo) {
      if (v instanceof SkipSpan s) {
        startsByEnd.computeIfAbsent(s.end(), e -> new ArrayList<>()).add(s.start());
        deepestStart = Math.max(deepestStart, s.start());
      }
    }
    startsByEnd.values().forEach(Collections::sort);
    // The prefix runs only as deep as some variant reads it.
    int prefixDepth = wantBaseline ? layout.layers() : deepestStart;
    Buffers buffers = new Buffers();
    for (int b = 0; b < batches.batchCount(); b++) {
      if (skipBatches.contains(b)) {
        continue;
      }
      Batch batch = batches.batch(b);
      try (BatchRun run = new BatchRun(batch, buffers, progress)) {
        ClassifierOutputs baseline = run.prefix(prefixDepth);
        if (wantBaseline) {
          sink.done(Variant.BASELINE, batch.exampleIndices(), baseline);
        }
        for (Map.Entry<Integer, List<Integer>> group : startsByEnd.entrySet()) {
          run.suffixes(group.getKey(), group.getValue(), sink);
        }
      } catch (OrtException e) {
        throw new OnnxSkipException("ONNX Runtime failed in the shared engine on batch " + b + ": " + OrtErrors.oneLine(e.getMessage()), e);
      }
      sink.flush();
      progress.examples(batch.batchSize() * todo.size());
    }
  }

  /** Direct float buffers kept from batch to batch, grown when a batch needs more. */
  private static final class Buffers {
    FloatBuffer states = direct(0);
    FloatBuffer gathered = direct(0);

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
    private final Progress progress;
    private final int n;
    private final int seq;
    private final Map<Integer, Map<String, OnnxTensor>> tokensByCopies = new HashMap<>();
    private long hidden;
    private int maxCopies;

    BatchRun(Batch batch, Buffers buffers, Progress progress) {
      this.batch = batch;
      this.buffers = buffers;
      this.progress = progress;
      this.n = batch.batchSize();
      this.seq = batch.seqLen();
    }

    /** Floats in one state h_k of this batch. */
    private long stateSize() {
      return (long) n * seq * hidden;
    }

    private long[] shape(int copies) {
      return new long[] {(long) copies * n, seq, hidden};
    }

    /**
     * Runs the embeddings and layers 0..depth-1, leaving h_0..h_L in the state buffer (those past
     * {@code depth} equal h_depth), and returns the baseline's outputs when depth is L.
     */
    ClassifierOutputs prefix(int depth) throws OrtException {
      long started = System.nanoTime();
      try (OrtSession.Result result = embeddings.session().run(feeds(embeddings, 1))) {
        OnnxTensor h0 = (OnnxTensor) result.get(0);
        long[] shape = h0.getInfo().getShape();
        if (shape.length != 3 || shape[0] != n || shape[1] != seq) {
          throw new OnnxSkipException("the residual stream " + layout.boundary(0) + " has shape " + Arrays.toString(shape)
              + " for a batch of " + n + " x " + seq + " tokens; the shared engine needs [batch, sequence, hidden] (use --engine naive)");
        }
        hidden = shape[2];
        maxCopies = (int) Math.max(1, Math.min(layout.layers(), stackTokens / ((long) n * seq)));
        buffers.states = Buffers.atLeast(buffers.states, (layout.layers() + 1) * stateSize());
        buffers.gathered = Buffers.atLeast(buffers.gathered, maxCopies * stateSize());
        states(0, 1).put(h0.getFloatBuffer());
      }
      Map<String, OnnxTensor> outputs = new HashMap<>();
      try (OnnxTensor h0 = OnnxTensor.createTensor(ENV, states(0, 1), shape(1))) {
        for (int k = 1; k <= layout.layers(); k++) {
          outputs.put(layout.boundary(k), OnnxTensor.createTensor(ENV, states(k, 1), shape(1)));
        }
        Map<String, OnnxTensor> feeds = switched(1, h0, depth - 1, -1);
        ClassifierOutputs baseline;
        try (OrtSession.Result result = encoder.session().run(feeds, headOutputs, outputs)) {
          baseline = headOutputs(result, 1);
        }
        progress.ran(Phase.BASELINE_RUNS, System.nanoTime() - started);
        if (wanted.layerStates() && depth == layout.layers()) {
          List<FloatBuffer> all = new ArrayList<>();
          for (int k = 0; k <= layout.layers(); k++) {
            all.add(states(k, 1));
          }
          baseline = baseline.with(ClassifierOutputs.Extra.LAYER_METRICS, LayerStates.perExample(batch, all, (int) hidden))
              .with(ClassifierOutputs.Extra.FINAL_POOLED, LayerStates.pooled(batch, states(layout.layers(), 1), 1, (int) hidden));
        }
        return baseline;
      } finally {
        outputs.values().forEach(OnnxTensor::close);
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
        FloatBuffer stack;
        if (chunk.get(copies - 1) - chunk.get(0) == copies - 1) {
          stack = states(chunk.get(0), copies);
        } else {
          // Starts with gaps (a list of spans, not all of them): gather their states.
          stack = slice(buffers.gathered, 0, copies * stateSize());
          for (int i = 0; i < copies; i++) {
            slice(stack, i * stateSize(), stateSize()).put(states(chunk.get(i), 1));
          }
        }
        ClassifierOutputs stacked;
        long started = System.nanoTime();
        try (OnnxTensor input = OnnxTensor.createTensor(ENV, stack, shape(copies));
            OrtSession.Result result = encoder.session().run(switched(copies, input, layout.layers() - 1, end), suffixOutputs)) {
          stacked = headOutputs(result, copies);
          if (wanted.layerStates()) {
            FloatBuffer finalStates = ((OnnxTensor) result.get(layout.boundary(layout.layers())).orElseThrow()).getFloatBuffer();
            stacked = stacked.with(ClassifierOutputs.Extra.FINAL_POOLED, LayerStates.pooled(batch, finalStates, copies, (int) hidden));
          }
        }
        progress.ran(Phase.SPAN_RUNS, System.nanoTime() - started);
        for (int i = 0; i < copies; i++) {
          sink.done(new SkipSpan(chunk.get(i), end), batch.exampleIndices(), stacked.rows(i * n, (i + 1) * n));
        }
      }
    }

    /**
     * The encoder's inputs for {@code copies} stacked states: tiled token tensors, the stack as
     * the layer-0 input, layers after {@code skipThrough} and up to {@code runThrough} switched on.
     */
    private Map<String, OnnxTensor> switched(int copies, OnnxTensor stack, int runThrough, int skipThrough) throws OrtException {
      Map<String, OnnxTensor> feeds = feeds(encoder, copies);
      feeds.put(layout.boundary(0), stack);
      for (int k = 0; k < layout.layers(); k++) {
        feeds.put(SwitchedLayers.switchInput(k), k > skipThrough && k <= runThrough ? runLayer : skipLayer);
      }
      return feeds;
    }

    private ClassifierOutputs headOutputs(OrtSession.Result result, int copies) throws OrtException {
      ClassifierOutputs out = ClassifierOutputs.logitsOnly(rows(result, signature.logitsOutput(), copies, "logits of shape [batch, labels]"));
      if (wanted.headFeatures().isPresent()) {
        out = out.with(ClassifierOutputs.Extra.HEAD_FEATURES, rows(result, wanted.headFeatures().get(), copies, "features of shape [batch, width]"));
      }
      return out;
    }

    private float[][] rows(OrtSession.Result result, String output, int copies, String expected) throws OrtException {
      Object value = result.get(output).orElseThrow().getValue();
      if (!(value instanceof float[][] rows) || rows.length != copies * n) {
        throw new OnnxSkipException("the classifier output '" + output + "' is not float " + expected);
      }
      return rows;
    }

    /** The token tensors a session reads, tiled {@code copies} times; made once per batch and height. */
    private Map<String, OnnxTensor> feeds(ModelSession session, int copies) throws OrtException {
      Map<String, OnnxTensor> tokens = tokensByCopies.get(copies);
      if (tokens == null) {
        tokens = TokenFeeds.create(signature.inputs(), tokenInputs, batch, copies);
        tokensByCopies.put(copies, tokens);
      }
      Map<String, OnnxTensor> feeds = new HashMap<>();
      for (String name : session.session().getInputNames()) {
        OnnxTensor t = tokens.get(name);
        if (t != null) {
          feeds.put(name, t);
        }
      }
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

  @Override
  public void close() {
    try {
      Resources.closeAll(List.of(embeddings, encoder, runLayer, skipLayer), OrtException.class);
    } catch (OrtException e) {
      throw new OnnxSkipException("ONNX Runtime failed closing the shared engine: " + OrtErrors.oneLine(e.getMessage()), e);
    }
  }
}
