package dev.onnxskip.runtime;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.TensorTypes;
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
 * <p>Weights in external-data files are mapped, not read: ONNX Runtime takes each as a shared
 * initializer, a tensor over the mapped file region that it uses in place. So a model of any size
 * opens from bytes that hold its graph alone, protobuf's 2 GB ceiling applies to the graph only,
 * and every session of the same source reads one copy of the weights, the page cache's.
 *
 * <p>Only initializers of the main graph are handed over. Those of subgraphs (the branches of an
 * {@code If}) stay in the bytes: ONNX Runtime replaces external initializers in the main graph only.
 */
public final class ModelSession implements AutoCloseable {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /** The external-data location of a handed-over weight: a name, not a file, that is never read. */
  private static final String IN_MEMORY = "onnx-skip-in-memory-weight";

  private final OrtSession.SessionOptions options;
  private final OrtSession session;
  private final Set<String> handedOver;
  private final Optional<WeightBuffers> owned;

  private ModelSession(OrtSession.SessionOptions options, OrtSession session, Set<String> handedOver, Optional<WeightBuffers> owned) {
    this.options = options;
    this.session = session;
    this.handedOver = handedOver;
    this.owned = owned;
  }

  /**
   * Opens a session of {@code model} with the options of {@code runtime}, its weights in buffers
   * of its own: copied ones released as soon as it is open, mapped ones when it closes.
   */
  public static ModelSession open(OnnxModel model, OrtRuntime runtime) throws OrtException {
    // ONNX Runtime's Java API documents the two lifetimes differently: external initializers "are
    // copied into the session once it has been created" and "can be closed" then
    // (SessionOptions.addExternalInitializers), whereas "the SessionOptions object must not be
    // closed until all sessions which use it are closed" (OrtSession.SessionOptions). So copied
    // buffers go once the session is open, and the session keeps its options until it closes. A
    // shared initializer (SessionOptions.addInitializer) is used in place, so mapped weights stay
    // as long as the session.
    WeightBuffers own = new WeightBuffers();
    ModelSession opened;
    try {
      opened = open(model, runtime, own);
    } catch (OrtException | RuntimeException e) {
      Resources.closeAllAfter(e, List.of(own));
      throw e;
    }
    if (!own.mapsFiles()) {
      own.close();
      return opened;
    }
    return new ModelSession(opened.options, opened.session, opened.handedOver, Optional.of(own));
  }

  /**
   * Opens a session whose weights come from {@code buffers}, which may already hold them for
   * another session of a model sharing them (a variant of the same source); the caller closes the
   * buffers once it opens no more sessions from them, and after every session reading weights they
   * mapped has closed.
   */
  public static ModelSession open(OnnxModel model, OrtRuntime runtime, WeightBuffers buffers) throws OrtException {
    OrtSession.SessionOptions opts = runtime.sessionOptions();
    try {
      GraphProto.Builder graph = model.proto().getGraph().toBuilder();
      Map<String, OnnxTensor> copied = new LinkedHashMap<>();
      Map<String, OnnxTensor> mapped = new LinkedHashMap<>();
      for (int i = 0; i < graph.getInitializerCount(); i++) {
        TensorProto t = graph.getInitializer(i);
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
          Optional<OnnxTensor> inPlace = buffers.mappedOf(t, model);
          if (inPlace.isPresent()) {
            mapped.put(t.getName(), inPlace.get());
            graph.setInitializer(i, placeholder(t));
            continue;
          }
          // A type the Java API cannot wrap (bool, strings, 4-bit): small in practice, so read into the bytes.
          t = ExternalData.inlined(t, model);
          graph.setInitializer(i, t);
        }
        Optional<OnnxTensor> buffer = buffers.bufferOf(t);
        if (buffer.isPresent()) {
          copied.put(t.getName(), buffer.get());
          graph.setInitializer(i, placeholder(t));
        }
      }
      Map<String, OnnxTensor> handed = new LinkedHashMap<>(copied);
      handed.putAll(mapped);
      if (!handed.isEmpty()) {
        opts.addExternalInitializers(Map.copyOf(handed));
      }
      ModelProto bytes = model.proto().toBuilder().setGraph(graph).build();
      Set<String> names = new java.util.LinkedHashSet<>(copied.keySet());
      names.addAll(mapped.keySet());
      return new ModelSession(opts, ENV.createSession(bytes.toByteArray(), opts), Set.copyOf(names), Optional.empty());
    } catch (OrtException | RuntimeException e) {
      Resources.closeAllAfter(e, List.of(opts));
      throw e;
    }
  }

  /** The weight as external data at {@link #IN_MEMORY}: its name, type and dims without its bytes. */
  private static TensorProto placeholder(TensorProto t) {
    return ExternalData.pointingTo(t, new ExternalData.Ref(IN_MEMORY, 0, TensorTypes.byteSize(t)));
  }

  public OrtSession session() {
    return session;
  }

  /** The options the session was made with, open while it is. */
  OrtSession.SessionOptions options() {
    return options;
  }

  /** The names of the weights handed over as buffers, copied or mapped. */
  Set<String> handedOver() {
    return handedOver;
  }

  @Override
  public void close() throws OrtException {
    List<AutoCloseable> resources = new java.util.ArrayList<>();
    owned.ifPresent(resources::add);
    resources.add(options);
    resources.add(session);
    Resources.closeAll(resources, OrtException.class);
  }
}
