package dev.onnxskip.runtime;

import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import com.google.protobuf.ByteString;
import dev.onnxskip.OnnxSkipException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Large weights copied once into direct buffers, for {@link ModelSession}s to hand to ONNX Runtime.
 *
 * <p>The naive engine opens one session per variant, and every variant reads the source model's
 * weights; one set of buffers serves them all. Buffers made per session would each hold a copy of
 * the model until the garbage collector ran, which a closed tensor does not force: evaluating 22
 * MiniLM variants reached 2 GB of memory that way.
 */
public final class WeightBuffers implements AutoCloseable {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /** Weights at least this large are handed over as buffers; smaller ones cost nothing to parse. */
  static final int HANDED_OVER_BYTES = 64 * 1024;

  private record Held(ByteString bytes, OnnxTensor tensor) {}

  private final Map<String, Held> byName = new HashMap<>();
  private final List<OnnxTensor> all = new ArrayList<>();

  /**
   * A buffer holding {@code t}'s bytes, made on first request and reused for any later tensor of
   * the same name and bytes; empty for weights that stay in the model bytes: small ones, those not
   * stored as raw little-endian bytes, and types the Java API cannot wrap as they are.
   */
  Optional<OnnxTensor> bufferOf(TensorProto t) {
    Optional<OnnxJavaType> type = handOverType(t);
    if (type.isEmpty()) {
      return Optional.empty();
    }
    Held held = byName.get(t.getName());
    // The same name may hold other bytes in another model; equals tells, and is quick for variants
    // that share the source's ByteString objects (it compares references first).
    if (held != null && held.bytes().equals(t.getRawData())) {
      return Optional.of(held.tensor());
    }
    ByteBuffer bytes = ByteBuffer.allocateDirect(t.getRawData().size()).order(ByteOrder.LITTLE_ENDIAN);
    t.getRawData().copyTo(bytes);
    bytes.flip();
    OnnxTensor tensor;
    try {
      tensor = OnnxTensor.createTensor(ENV, bytes, t.getDimsList().stream().mapToLong(Long::longValue).toArray(), type.get());
    } catch (OrtException e) {
      throw new OnnxSkipException("ONNX Runtime cannot wrap weight '" + t.getName() + "': " + OrtErrors.oneLine(e.getMessage()), e);
    }
    all.add(tensor);
    if (held == null) {
      byName.put(t.getName(), new Held(t.getRawData(), tensor));
    }
    return Optional.of(tensor);
  }

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

  /** How many distinct buffers were made. */
  int bufferCount() {
    return all.size();
  }

  /** Releases every buffer; sessions already open keep their own copies of the weights. */
  @Override
  public void close() {
    Resources.closeAll(all);
  }
}
