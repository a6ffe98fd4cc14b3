package dev.onnxskip.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.data.Batch;
import dev.onnxskip.graph.OnnxModel;
import java.util.List;
import java.util.Map;

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
    Map<String, OnnxTensor> feeds = Map.of();
    try {
      feeds = TokenFeeds.create(signature.inputs(), session.session().getInputNames(), batch, 1);
      try (OrtSession.Result result = session.session().run(feeds, java.util.Set.of(signature.logitsOutput()))) {
        OnnxValue v = result.get(0);
        float[][] logits = (float[][]) v.getValue();
        if (logits.length != batch.batchSize()) {
          throw new OnnxSkipException(label + ": output '" + signature.logitsOutput() + "' has " + logits.length
              + " rows for a batch of " + batch.batchSize() + "; expected logits of shape [batch, labels]");
        }
        return logits;
      }
    } catch (OrtException e) {
      throw new OnnxSkipException("ONNX Runtime failed running " + label + ": " + OrtErrors.oneLine(e.getMessage()), e);
    } catch (ClassCastException e) {
      throw new OnnxSkipException(label + ": output '" + signature.logitsOutput() + "' is not a 2-D float tensor [batch, labels]");
    } finally {
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
