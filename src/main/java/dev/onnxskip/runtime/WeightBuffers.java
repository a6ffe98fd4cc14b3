package dev.onnxskip.runtime;

import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import com.google.protobuf.ByteString;
import dev.onnxskip.AtomicFiles;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorTypes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Large weights copied once into direct buffers, and weights stored in external-data files mapped
 * from them once, for {@link ModelSession}s to hand to ONNX Runtime.
 *
 * <p>The naive engine opens one session per variant, and every variant reads the source model's
 * weights; one set of buffers serves them all. Buffers made per session would each hold a copy of
 * the model until the garbage collector ran, which a closed tensor does not force: evaluating 22
 * MiniLM variants reached 2 GB of memory that way.
 *
 * <p>External weights are never copied: each is a tensor over its own mapping of the file region
 * (a mapping holds at most 2 GB, and per tensor it needs no offsets of its own), so the weights of
 * a model of any size take the page cache's memory once, however many sessions read them. The
 * mappings stay until {@link #close}, as sessions read them for as long as they are open.
 */
public final class WeightBuffers implements AutoCloseable {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /** Weights at least this large are handed over as buffers; smaller ones cost nothing to parse. */
  static final int HANDED_OVER_BYTES = 64 * 1024;

  private record Held(ByteString bytes, OnnxTensor tensor) {}

  /** A mapped weight is known by where its bytes are and what it is. */
  private record MappedKey(ExternalData.Region region, int dataType, List<Long> dims) {}

  private final Map<String, Held> byName = new HashMap<>();
  private final Map<MappedKey, OnnxTensor> mapped = new HashMap<>();
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
    OnnxTensor tensor = wrap(t, bytes, type.get());
    all.add(tensor);
    if (held == null) {
      byName.put(t.getName(), new Held(t.getRawData(), tensor));
    }
    return Optional.of(tensor);
  }

  /**
   * A tensor over the file region holding external weight {@code t} of {@code owner}, mapped on
   * first request and reused for every later tensor at the same place; empty for weights stored in
   * the model, and for types the Java API cannot wrap as they are (whose bytes the caller reads).
   */
  Optional<OnnxTensor> mappedOf(TensorProto t, OnnxModel owner) {
    Optional<ExternalData.Region> region = ExternalData.region(owner, t);
    Optional<OnnxJavaType> type = region.isEmpty() || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN
        ? Optional.empty() : wrappable(t);
    if (type.isEmpty()) {
      return Optional.empty();
    }
    MappedKey key = new MappedKey(region.get(), t.getDataType(), t.getDimsList());
    OnnxTensor held = mapped.get(key);
    if (held != null) {
      return Optional.of(held);
    }
    long length = region.get().length();
    if (length != TensorTypes.byteSize(t)) {
      throw new OnnxSkipException(owner.describe() + ": tensor '" + t.getName() + "' needs " + TensorTypes.byteSize(t)
          + " bytes but its external data entry gives " + length);
    }
    if (length > Integer.MAX_VALUE) {
      throw new OnnxSkipException(owner.describe() + ": weight '" + t.getName() + "' alone holds " + length
          + " bytes; ONNX Runtime's Java API takes tensors of at most 2 GB each");
    }
    ByteBuffer bytes;
    try (FileChannel ch = FileChannel.open(region.get().file(), StandardOpenOption.READ)) {
      // Read-only: ONNX Runtime only reads initializers, and the user's model file must stay as it is.
      bytes = ch.map(FileChannel.MapMode.READ_ONLY, region.get().offset(), length).order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new OnnxSkipException(owner.describe() + ": cannot map external data of tensor '" + t.getName() + "' from "
          + region.get().file() + ": " + AtomicFiles.describe(e), e);
    }
    OnnxTensor tensor = wrap(t, bytes, type.get());
    all.add(tensor);
    mapped.put(key, tensor);
    return Optional.of(tensor);
  }

  /** Whether any weights were mapped from files, which sessions read for as long as they are open. */
  boolean mapsFiles() {
    return !mapped.isEmpty();
  }

  private static OnnxTensor wrap(TensorProto t, ByteBuffer bytes, OnnxJavaType type) {
    try {
      return OnnxTensor.createTensor(ENV, bytes, t.getDimsList().stream().mapToLong(Long::longValue).toArray(), type);
    } catch (OrtException e) {
      throw new OnnxSkipException("ONNX Runtime cannot wrap weight '" + t.getName() + "': " + OrtErrors.oneLine(e.getMessage()), e);
    }
  }

  private static Optional<OnnxJavaType> handOverType(TensorProto t) {
    if (t.getRawData().size() < HANDED_OVER_BYTES || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN
        || t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      return Optional.empty();
    }
    return wrappable(t);
  }

  /** The Java type ONNX Runtime wraps a tensor of {@code t}'s element type as, if it can. */
  private static Optional<OnnxJavaType> wrappable(TensorProto t) {
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

  /**
   * Releases every buffer and mapping. Sessions already open keep their own copies of the copied
   * weights, but read the mapped ones in place: close those sessions first.
   */
  @Override
  public void close() {
    Resources.closeAll(all);
  }
}
