package dev.onnxskip.runtime;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.OnnxModel;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An ONNX Runtime session of a model held in memory, whose large weights ONNX Runtime reads from
 * direct buffers of a {@link WeightBuffers} instead of parsing them out of the serialized model.
 *
 * <p>Why: ONNX Runtime 1.29 spends about 0.4 s taking MiniLM's 47 MB token-embedding table out of
 * model bytes, but hardly any time taking the same table as a buffer, and the model bytes then stay
 * small, so serializing them is cheap too. Evaluation opens sessions often (the naive engine one
 * per variant), so this is a good part of what opening one costs. The buffers are handed over with
 * ONNX Runtime's external initializers: in the serialized model such a weight is marked as
 * external data at a placeholder location that ONNX Runtime never opens.
 *
 * <p>Only initializers of the main graph are handed over. Those of subgraphs (the branches of an
 * {@code If}) stay in the bytes: ONNX Runtime replaces external initializers in the main graph only.
 */
public final class ModelSession implements AutoCloseable {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /** The external-data location of a handed-over weight: a name, not a file, that is never read. */
  private static final String IN_MEMORY = "onnx-skip-in-memory-weight";

  private final OrtSession session;
  private final Map<String, OnnxTensor> handedOver;
  private final Optional<WeightBuffers> owned;

  private ModelSession(OrtSession session, Map<String, OnnxTensor> handedOver, Optional<WeightBuffers> owned) {
    this.session = session;
    this.handedOver = handedOver;
    this.owned = owned;
  }

  /**
   * Opens a session of {@code model} (external data, if any, is read first) with the options of
   * {@code runtime}, its weights in buffers of its own, released when it closes.
   */
  public static ModelSession open(OnnxModel model, OrtRuntime runtime) throws OrtException {
    WeightBuffers own = new WeightBuffers();
    try {
      return open(model, runtime, own, Optional.of(own));
    } catch (OrtException | RuntimeException e) {
      own.close();
      throw e;
    }
  }

  /**
   * Opens a session whose weights come from {@code buffers}, which may already hold them for
   * another session of a model sharing them (a variant of the same source); the caller closes the
   * buffers after every session that reads them.
   */
  public static ModelSession open(OnnxModel model, OrtRuntime runtime, WeightBuffers buffers) throws OrtException {
    return open(model, runtime, buffers, Optional.empty());
  }

  private static ModelSession open(OnnxModel model, OrtRuntime runtime, WeightBuffers buffers, Optional<WeightBuffers> owned)
      throws OrtException {
    OnnxModel inlined = ExternalData.inline(model);
    try (OrtSession.SessionOptions opts = runtime.sessionOptions()) {
      GraphProto.Builder graph = inlined.proto().getGraph().toBuilder();
      Map<String, OnnxTensor> handedOver = new LinkedHashMap<>();
      for (int i = 0; i < graph.getInitializerCount(); i++) {
        TensorProto t = graph.getInitializer(i);
        Optional<OnnxTensor> buffer = buffers.bufferOf(t);
        if (buffer.isPresent()) {
          handedOver.put(t.getName(), buffer.get());
          graph.setInitializer(i, placeholder(t));
        }
      }
      if (!handedOver.isEmpty()) {
        opts.addExternalInitializers(Map.copyOf(handedOver));
      }
      byte[] bytes = inlined.proto().toBuilder().setGraph(graph).build().toByteArray();
      return new ModelSession(ENV.createSession(bytes, opts), handedOver, owned);
    }
  }

  /** The weight as external data at {@link #IN_MEMORY}: its name, type and dims without its bytes. */
  private static TensorProto placeholder(TensorProto t) {
    return ExternalData.pointingTo(t, new ExternalData.Ref(IN_MEMORY, 0, t.getRawData().size()));
  }

  public OrtSession session() {
    return session;
  }

  /** The weights handed over as buffers, by initializer name. */
  Map<String, OnnxTensor> handedOver() {
    return Collections.unmodifiableMap(handedOver);
  }

  @Override
  public void close() throws OrtException {
    try {
      session.close();
    } finally {
      // Only after the session: it reads the weights from these buffers until it is closed.
      owned.ifPresent(WeightBuffers::close);
    }
  }
}
