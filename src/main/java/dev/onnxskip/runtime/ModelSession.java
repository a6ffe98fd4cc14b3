package dev.onnxskip.runtime;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.OnnxModel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

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
 *
 * <p>Weights in external-data files stay there, in the main graph and in subgraphs alike: the bytes
 * hold the graph alone, so protobuf's 2 GB ceiling applies to the graph only, and ONNX Runtime maps
 * the files itself from the model's folder, which the session is told (its option for models
 * loaded from bytes), holding them once. Handing the same weights over as buffers mapped from the
 * file instead makes ONNX Runtime 1.29 copy them into the session, which doubles the memory; and
 * a shared initializer's placeholder entry is still checked against the disk. make bench-large
 * measures both engines' peak memory on a 2.3 GB model.
 */
public final class ModelSession implements AutoCloseable {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /**
   * The session option naming the folder that external-data locations of a model loaded from bytes
   * are relative to (kOrtSessionOptionsModelExternalInitializersFileFolderPath).
   */
  static final String EXTERNAL_DATA_FOLDER = "session.model_external_initializers_file_folder_path";

  /** The external-data location of a handed-over weight: a name, not a file, that is never read. */
  private static final String IN_MEMORY = "onnx-skip-in-memory-weight";

  private final OrtSession.SessionOptions options;
  private final OrtSession session;
  private final Set<String> handedOver;

  private ModelSession(OrtSession.SessionOptions options, OrtSession session, Set<String> handedOver) {
    this.options = options;
    this.session = session;
    this.handedOver = handedOver;
  }

  /**
   * Opens a session of {@code model} (external data, if any, is read first) with the options of
   * {@code runtime}, its weights in buffers of its own, released as soon as it is open.
   */
  public static ModelSession open(OnnxModel model, OrtRuntime runtime) throws OrtException {
    // ONNX Runtime's Java API documents the two lifetimes differently: external initializers "are
    // copied into the session once it has been created" and "can be closed" then
    // (SessionOptions.addExternalInitializers), whereas "the SessionOptions object must not be
    // closed until all sessions which use it are closed" (OrtSession.SessionOptions). So the
    // buffers go once the session is open, and the session keeps its options until it closes.
    try (WeightBuffers own = new WeightBuffers()) {
      return open(model, runtime, own);
    }
  }

  /**
   * Opens a session whose weights come from {@code buffers}, which may already hold them for
   * another session of a model sharing them (a variant of the same source); the caller closes the
   * buffers once it opens no more sessions from them.
   */
  public static ModelSession open(OnnxModel model, OrtRuntime runtime, WeightBuffers buffers) throws OrtException {
    OrtSession.SessionOptions opts = runtime.sessionOptions();
    try {
      // Subgraphs may hold external weights where the main graph holds none: always name the folder.
      opts.addConfigEntry(EXTERNAL_DATA_FOLDER, model.baseDir().toString());
      GraphProto.Builder graph = model.proto().getGraph().toBuilder();
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
      byte[] bytes = model.proto().toBuilder().setGraph(graph).build().toByteArray();
      return new ModelSession(opts, ENV.createSession(bytes, opts), Set.copyOf(handedOver.keySet()));
    } catch (OrtException | RuntimeException e) {
      Resources.closeAllAfter(e, List.of(opts));
      throw e;
    }
  }

  /** The weight as external data at {@link #IN_MEMORY}: its name, type and dims without its bytes. */
  private static TensorProto placeholder(TensorProto t) {
    return ExternalData.pointingTo(t, new ExternalData.Ref(IN_MEMORY, 0, t.getRawData().size()));
  }

  public OrtSession session() {
    return session;
  }

  /** The options the session was made with, open while it is. */
  OrtSession.SessionOptions options() {
    return options;
  }

  /** The names of the weights handed over as buffers. */
  Set<String> handedOver() {
    return handedOver;
  }

  @Override
  public void close() throws OrtException {
    Resources.closeAll(List.of(options, session), OrtException.class);
  }
}
