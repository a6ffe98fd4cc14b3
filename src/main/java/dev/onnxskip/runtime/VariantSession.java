package dev.onnxskip.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.data.Batch;
import dev.onnxskip.graph.OnnxModel;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One ONNX Runtime session of a classifier variant, built from the model bytes in memory (weights
 * in external-data files mapped from them), fed only the inputs the model declares. Close it as
 * soon as its variant is done: a session holds a copy of the weights.
 */
public final class VariantSession implements AutoCloseable {

  private final ModelSession session;
  private final ClassifierSignature signature;
  private final String label;

  private VariantSession(ModelSession session, ClassifierSignature signature, String label) {
    this.session = session;
    this.signature = signature;
    this.label = label;
  }

  /** A session reading its large weights from {@code weights}, shared with other variants of the same source. */
  public static VariantSession open(OnnxModel model, ClassifierSignature signature, OrtRuntime runtime, String label, WeightBuffers weights) {
    try {
      return new VariantSession(ModelSession.open(model, runtime, weights), signature, label);
    } catch (OrtException e) {
      throw new OnnxSkipException("ONNX Runtime cannot load " + label + ": " + OrtErrors.oneLine(e.getMessage()), e);
    }
  }

  /** Logits of every example of a batch, row by row in batch order. */
  public float[][] logits(Batch batch) {
    return outputs(batch, Optional.empty(), List.of()).outputs().logits();
  }

  /**
   * One batch's outputs, and graph outputs the caller reads itself.
   *
   * @param outputs the logits, and the head's features where asked for
   * @param states the {@code states} outputs asked for, in that order, flat and row-major
   */
  public record Run(ClassifierOutputs outputs, List<FloatBuffer> states) {}

  /**
   * Logits of every example of a batch, the graph output {@code features} where asked for, row by
   * row in batch order, and the float tensors {@code states} (residual-stream states, for instance).
   */
  public Run outputs(Batch batch, Optional<String> features, List<String> states) {
    Map<String, OnnxTensor> feeds = Map.of();
    Set<String> wanted = new LinkedHashSet<>();
    wanted.add(signature.logitsOutput());
    features.ifPresent(wanted::add);
    wanted.addAll(states);
    try {
      feeds = TokenFeeds.create(signature.inputs(), session.session().getInputNames(), batch, 1);
      try (OrtSession.Result result = session.session().run(feeds, wanted)) {
        float[][] logits = rows(result, signature.logitsOutput(), batch, "logits of shape [batch, labels]");
        ClassifierOutputs out = ClassifierOutputs.logitsOnly(logits);
        if (features.isPresent()) {
          out = out.with(ClassifierOutputs.Extra.HEAD_FEATURES, rows(result, features.get(), batch, "features of shape [batch, width]"));
        }
        List<FloatBuffer> read = new ArrayList<>();
        for (String state : states) {
          read.add(((OnnxTensor) result.get(state).orElseThrow()).getFloatBuffer());
        }
        return new Run(out, read);
      }
    } catch (OrtException e) {
      throw new OnnxSkipException("ONNX Runtime failed running " + label + ": " + OrtErrors.oneLine(e.getMessage()), e);
    } finally {
      Resources.closeAll(List.copyOf(feeds.values()));
    }
  }

  private float[][] rows(OrtSession.Result result, String output, Batch batch, String expected) throws OrtException {
    Object value = result.get(output).orElseThrow().getValue();
    if (!(value instanceof float[][] rows)) {
      throw new OnnxSkipException(label + ": output '" + output + "' is not a 2-D float tensor; expected " + expected);
    }
    if (rows.length != batch.batchSize()) {
      throw new OnnxSkipException(label + ": output '" + output + "' has " + rows.length
          + " rows for a batch of " + batch.batchSize() + "; expected " + expected);
    }
    return rows;
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
