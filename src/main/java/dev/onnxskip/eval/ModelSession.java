package dev.onnxskip.eval;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.OnnxModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An ONNX Runtime session of a model held in memory, whose large weights ONNX Runtime reads from
 * direct buffers this object owns instead of parsing them out of the serialized model.
 *
 * <p>Why: ONNX Runtime 1.29 spends about 0.4 s taking MiniLM's 47 MB token-embedding table out of
 * model bytes, but hardly any time taking the same table as a buffer, and the model bytes then stay
 * small, so serializing them is cheap too. Evaluation opens sessions often (the naive engine one
 * per variant), so this is most of what opening one costs. The buffers are handed over with
 * ONNX Runtime's external initializers: in the serialized model such a weight is marked as
 * external data at a placeholder location that ONNX Runtime never opens.
 *
 * <p>Only initializers of the main graph are handed over. Those of subgraphs (the branches of an
 * {@code If}) stay in the bytes: ONNX Runtime replaces external initializers in the main graph only.
 */
public final class ModelSession implements AutoCloseable {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /** Weights at least this large are handed over as buffers; smaller ones cost nothing to parse. */
  static final int HANDED_OVER_BYTES = 64 * 1024;

  /** The external-data location of a handed-over weight: a name, not a file, that is never read. */
  static final String IN_MEMORY = "onnx-skip-in-memory-weight";

  private final OrtSession session;
  private final Map<String, OnnxTensor> weights;

  private ModelSession(OrtSession session, Map<String, OnnxTensor> weights) {
    this.session = session;
    this.weights = weights;
  }

  /**
   * Opens a session of {@code model} (external data, if any, is read first) with the options of
   * {@code runtime}.
   */
  public static ModelSession open(OnnxModel model, Runtime runtime) throws OrtException {
    OnnxModel inlined = ExternalData.inline(model);
    Map<String, OnnxTensor> weights = new LinkedHashMap<>();
    try (OrtSession.SessionOptions opts = runtime.sessionOptions()) {
      GraphProto.Builder graph = inlined.proto().getGraph().toBuilder();
      for (int i = 0; i < graph.getInitializerCount(); i++) {
        TensorProto t = graph.getInitializer(i);
        Optional<OnnxJavaType> type = handOverType(t);
        if (type.isEmpty()) {
          continue;
        }
        ByteBuffer bytes = ByteBuffer.allocateDirect(t.getRawData().size()).order(ByteOrder.LITTLE_ENDIAN);
        t.getRawData().copyTo(bytes);
        bytes.flip();
        OnnxTensor tensor = OnnxTensor.createTensor(ENV, bytes, t.getDimsList().stream().mapToLong(Long::longValue).toArray(), type.get());
        weights.put(t.getName(), tensor);
        graph.setInitializer(i, placeholder(t));
      }
      if (!weights.isEmpty()) {
        opts.addExternalInitializers(Map.copyOf(weights));
      }
      byte[] bytes = inlined.proto().toBuilder().setGraph(graph).build().toByteArray();
      return new ModelSession(ENV.createSession(bytes, opts), weights);
    } catch (OrtException | RuntimeException e) {
      weights.values().forEach(OnnxTensor::close);
      throw e;
    }
  }

  /**
   * The Java type of a weight to hand over, or empty to leave it in the model bytes: small ones,
   * those not stored as raw little-endian bytes, and types the Java API cannot wrap as they are.
   */
  private static Optional<OnnxJavaType> handOverType(TensorProto t) {
    if (t.getRawData().size() < HANDED_OVER_BYTES || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN
        || t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      return Optional.empty();
    }
    TensorProto.DataType type = TensorProto.DataType.forNumber(t.getDataType());
    if (type == null) {
      return Optional.empty();
    }
    return switch (type) {
      case FLOAT -> Optional.of(OnnxJavaType.FLOAT);
      case DOUBLE -> Optional.of(OnnxJavaType.DOUBLE);
      case INT8 -> Optional.of(OnnxJavaType.INT8);
      case UINT8 -> Optional.of(OnnxJavaType.UINT8);
      case INT16 -> Optional.of(OnnxJavaType.INT16);
      case INT32 -> Optional.of(OnnxJavaType.INT32);
      case INT64 -> Optional.of(OnnxJavaType.INT64);
      case FLOAT16 -> Optional.of(OnnxJavaType.FLOAT16);
      case BFLOAT16 -> Optional.of(OnnxJavaType.BFLOAT16);
      default -> Optional.empty();
    };
  }

  /** The weight as external data at {@link #IN_MEMORY}: its name, type and dims without its bytes. */
  private static TensorProto placeholder(TensorProto t) {
    return t.toBuilder().clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
        .addExternalData(entry("location", IN_MEMORY))
        .addExternalData(entry("offset", "0"))
        .addExternalData(entry("length", Integer.toString(t.getRawData().size())))
        .build();
  }

  private static StringStringEntryProto entry(String key, String value) {
    return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
  }

  public OrtSession session() {
    return session;
  }

  /** The weights handed over as buffers, by initializer name. */
  Map<String, OnnxTensor> handedOver() {
    return Collections.unmodifiableMap(weights);
  }

  @Override
  public void close() throws OrtException {
    try {
      session.close();
    } finally {
      // Only after the session: it reads the weights from these buffers until it is closed.
      weights.values().forEach(OnnxTensor::close);
    }
  }
}
