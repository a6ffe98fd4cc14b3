package dev.onnxskip.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.data.Batch;
import dev.onnxskip.graph.OnnxModel;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Times the forward pass of one standalone model, as a deployment runs it: one session of the whole
 * model, fed the batch's token tensors, asked for the logits only. The clock covers ONNX Runtime's
 * own {@code run}, which returns once the requested output is on the host (on CUDA that includes the
 * device's work and the copy of the logits, and nothing else: the other outputs are neither computed
 * for return nor copied). Input tensors are made once, before the clock starts.
 */
public final class ModelTimer implements AutoCloseable {

  /**
   * How many runs: {@code warmup} discarded, then {@code repeats} timed.
   *
   * @throws IllegalArgumentException for a negative warm-up or fewer than one repeat
   */
  public record Plan(int warmup, int repeats) {
    public Plan {
      if (warmup < 0 || repeats < 1) {
        throw new IllegalArgumentException("warm-up " + warmup + " must be 0 or more and repeats " + repeats + " at least 1");
      }
    }
  }

  private final ModelSession session;
  private final ClassifierSignature signature;
  private final String label;

  private ModelTimer(ModelSession session, ClassifierSignature signature, String label) {
    this.session = session;
    this.signature = signature;
    this.label = label;
  }

  /** A session of {@code model} on the runtime's device and threads. */
  public static ModelTimer open(OnnxModel model, ClassifierSignature signature, OrtRuntime runtime, String label) {
    try {
      return new ModelTimer(ModelSession.open(model, runtime), signature, label);
    } catch (OrtException e) {
      throw new OnnxSkipException("ONNX Runtime cannot load " + label + ": " + OrtErrors.oneLine(e.getMessage()), e);
    }
  }

  /** Runs the batch {@code plan.warmup()} times untimed, then {@code plan.repeats()} times timed. */
  public RunTimes time(Batch batch, Plan plan) {
    try (Input input = prepare(batch)) {
      for (int i = 0; i < plan.warmup(); i++) {
        input.runMillis();
      }
      double[] millis = new double[plan.repeats()];
      for (int i = 0; i < millis.length; i++) {
        millis[i] = input.runMillis();
      }
      return new RunTimes(batch.batchSize(), batch.seqLen(), plan.warmup(), millis);
    }
  }

  /** The batch's input tensors, made once, to run the model on as often as asked. */
  public Input prepare(Batch batch) {
    try {
      return new Input(batch, TokenFeeds.create(signature.inputs(), session.session().getInputNames(), batch, 1));
    } catch (OrtException e) {
      throw new OnnxSkipException("ONNX Runtime cannot take the input of " + label + ": " + OrtErrors.oneLine(e.getMessage()), e);
    }
  }

  /** One input, ready to run; closing it releases its tensors. */
  public final class Input implements AutoCloseable {
    private final Batch batch;
    private final Map<String, OnnxTensor> feeds;
    private final Set<String> wanted = Set.of(signature.logitsOutput());

    private Input(Batch batch, Map<String, OnnxTensor> feeds) {
      this.batch = batch;
      this.feeds = feeds;
    }

    public Batch batch() {
      return batch;
    }

    /** One forward pass; its wall time in milliseconds. */
    public double runMillis() {
      try {
        long start = System.nanoTime();
        OrtSession.Result result = session.session().run(feeds, wanted);
        long end = System.nanoTime();
        result.close();
        // A timer coarser than the run would read 0; the smallest step it can tell apart stands for it.
        return Math.max(end - start, 1) / 1e6;
      } catch (OrtException e) {
        throw new OnnxSkipException("ONNX Runtime failed running " + label + ": " + OrtErrors.oneLine(e.getMessage()), e);
      }
    }

    @Override
    public void close() {
      Resources.closeAll(List.copyOf(feeds.values()));
    }
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new OnnxSkipException("ONNX Runtime failed closing " + label + ": " + OrtErrors.oneLine(e.getMessage()), e);
    }
  }
}
