package dev.onnxskip.graph;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataLocation;
import com.google.protobuf.ByteString;
import dev.onnxskip.AtomicFiles;
import dev.onnxskip.OnnxSkipException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * ONNX external data: initializers whose bytes live in a side file named by a relative
 * {@code location}, at {@code offset} for {@code length} bytes. This is how models over protobuf's
 * 2 GB ceiling are stored, and how variants share one weights file.
 */
public final class ExternalData {
  private ExternalData() {}

  /** Where an external tensor's bytes are; {@code length} is -1 when the entry omits it (to end of file). */
  public record Ref(String location, long offset, long length) {}

  /**
   * A tensor with {@code t}'s name, type and shape whose bytes are declared to be at {@code ref};
   * the one place that spells the external-data entries.
   */
  public static TensorProto pointingTo(TensorProto t, Ref ref) {
    return TensorProto.newBuilder()
        .setName(t.getName())
        .addAllDims(t.getDimsList())
        .setDataType(t.getDataType())
        .setDataLocation(DataLocation.EXTERNAL)
        .addExternalData(entry("location", ref.location()))
        .addExternalData(entry("offset", Long.toString(ref.offset())))
        .addExternalData(entry("length", Long.toString(ref.length())))
        .build();
  }

  private static StringStringEntryProto entry(String key, String value) {
    return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
  }

  public static Optional<Ref> refOf(TensorProto t) {
    if (t.getDataLocation() != DataLocation.EXTERNAL) {
      return Optional.empty();
    }
    String location = null;
    long offset = 0;
    long length = -1;
    for (StringStringEntryProto e : t.getExternalDataList()) {
      switch (e.getKey()) {
        case "location" -> location = e.getValue();
        case "offset" -> offset = parseLong(t, e);
        case "length" -> length = parseLong(t, e);
        default -> {
          // "checksum" and unknown keys do not affect where the bytes are.
        }
      }
    }
    if (location == null || location.isEmpty()) {
      throw new OnnxSkipException("tensor '" + t.getName() + "' is marked external but names no location");
    }
    return Optional.of(new Ref(location, offset, length));
  }

  private static long parseLong(TensorProto t, StringStringEntryProto e) {
    try {
      long v = Long.parseLong(e.getValue());
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException ex) {
      throw new OnnxSkipException(
          "tensor '" + t.getName() + "': external data " + e.getKey() + " '" + e.getValue() + "' is not a valid number");
    }
  }

  /** The files, relative to the model's folder, that its main graph's external weights live in. */
  public static Set<String> locations(OnnxModel model) {
    Set<String> locations = new java.util.TreeSet<>();
    for (TensorProto t : model.proto().getGraph().getInitializerList()) {
      refOf(t).ifPresent(ref -> locations.add(ref.location()));
    }
    return locations;
  }

  public static boolean hasExternal(ModelProto m) {
    return m.getGraph().getInitializerList().stream().anyMatch(t -> t.getDataLocation() == DataLocation.EXTERNAL);
  }

  /**
   * Checks that every external tensor's file exists inside the model's folder and is long enough.
   *
   * @throws OnnxSkipException naming the tensor and the file
   */
  public static void check(OnnxModel model) {
    for (TensorProto t : model.proto().getGraph().getInitializerList()) {
      Optional<Ref> ref = refOf(t);
      if (ref.isEmpty()) {
        continue;
      }
      Path file = resolve(model, t, ref.get());
      long size;
      try {
        size = Files.size(file);
      } catch (IOException e) {
        throw new OnnxSkipException(
            model.describe() + ": external data file " + file + " of tensor '" + t.getName() + "' is missing");
      }
      long expected = TensorTypes.byteSize(t);
      long length = ref.get().length() >= 0 ? ref.get().length() : size - ref.get().offset();
      if (TensorTypes.elementSize(t.getDataType()) > 0 && length != expected) {
        throw new OnnxSkipException(
            model.describe() + ": tensor '" + t.getName() + "' needs " + expected + " bytes but its external data entry gives " + length);
      }
      if (ref.get().offset() + length > size) {
        throw new OnnxSkipException(
            model.describe() + ": external data file " + file + " is too short for tensor '" + t.getName()
                + "' (needs bytes up to " + (ref.get().offset() + length) + ", file has " + size + ")");
      }
    }
  }

  /**
   * The external-data files a model reads its weights from, as absolute paths: outputs must never
   * be written over them, as that would destroy the model they belong to.
   */
  public static Set<Path> files(OnnxModel model) {
    Set<Path> files = new LinkedHashSet<>();
    for (TensorProto t : model.proto().getGraph().getInitializerList()) {
      refOf(t).ifPresent(ref -> files.add(resolve(model, t, ref)));
    }
    return files;
  }

  private static Path resolve(OnnxModel model, TensorProto t, Ref ref) {
    Path base = model.baseDir().normalize();
    Path file = base.resolve(ref.location()).normalize();
    // The ONNX spec confines locations to the model's folder; refuse to read elsewhere.
    if (Path.of(ref.location()).isAbsolute() || !file.startsWith(base)) {
      throw new OnnxSkipException(
          model.describe() + ": tensor '" + t.getName() + "' has external data outside the model folder: " + ref.location());
    }
    return file;
  }

  /**
   * The model with every external tensor's bytes read into {@code raw_data}, for a variant written
   * as one file. Models without external data are returned as they are.
   */
  public static OnnxModel inline(OnnxModel model) {
    if (!hasExternal(model.proto())) {
      return model;
    }
    GraphProto.Builder g = model.proto().getGraph().toBuilder();
    long total = 0;
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      if (t.getDataLocation() == DataLocation.EXTERNAL) {
        total += TensorTypes.byteSize(t);
        if (total > Integer.MAX_VALUE - (1L << 26)) {
          throw new OnnxSkipException(
              model.describe() + ": weights exceed 2 GB and cannot be held in one model file; keep them in external data");
        }
        g.setInitializer(i, inlined(t, model));
      }
    }
    return new OnnxModel(model.proto().toBuilder().setGraph(g).build(), model.source());
  }

  /** {@code t} with its external bytes read into {@code raw_data}; a tensor stored inline as it is. */
  public static TensorProto inlined(TensorProto t, OnnxModel owner) {
    if (t.getDataLocation() != DataLocation.EXTERNAL) {
      return t;
    }
    return t.toBuilder().clearExternalData().setDataLocation(DataLocation.DEFAULT)
        .setRawData(ByteString.copyFrom(rawBytes(t, owner))).build();
  }

  /** Streams a tensor's raw bytes to {@code out}, without copying inline raw data. */
  public static void writeRaw(TensorProto t, OnnxModel owner, java.io.OutputStream out) throws IOException {
    if (t.getDataLocation() != DataLocation.EXTERNAL && t.hasRawData()) {
      t.getRawData().writeTo(out);
    } else {
      out.write(rawBytes(t, owner));
    }
  }

  /** A tensor's contents as little-endian raw bytes, wherever and however the proto stores them. */
  public static byte[] rawBytes(TensorProto t, OnnxModel owner) {
    Optional<Ref> ref = refOf(t);
    if (ref.isPresent()) {
      Path file = resolve(owner, t, ref.get());
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        long length = ref.get().length() >= 0 ? ref.get().length() : ch.size() - ref.get().offset();
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(length));
        long pos = ref.get().offset();
        while (buf.hasRemaining()) {
          int n = ch.read(buf, pos);
          if (n < 0) {
            throw new OnnxSkipException(
                owner.describe() + ": external data file " + file + " is too short for tensor '" + t.getName() + "'");
          }
          pos += n;
        }
        return buf.array();
      } catch (IOException e) {
        throw new OnnxSkipException(
            owner.describe() + ": cannot read external data of tensor '" + t.getName() + "' from " + file + ": " + AtomicFiles.describe(e), e);
      }
    }
    if (t.hasRawData()) {
      return t.getRawData().toByteArray();
    }
    return typedFieldBytes(t);
  }

  /** Encodes the typed repeated fields (float_data, int64_data, ...) as the raw bytes they stand for. */
  private static byte[] typedFieldBytes(TensorProto t) {
    int size = TensorTypes.elementSize(t.getDataType());
    if (size == 0) {
      throw new OnnxSkipException("tensor '" + t.getName() + "' of type " + TensorTypes.typeName(t.getDataType()) + " has no fixed-size raw form");
    }
    ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(TensorTypes.byteSize(t))).order(ByteOrder.LITTLE_ENDIAN);
    TensorProto.DataType type = TensorProto.DataType.forNumber(t.getDataType());
    switch (type) {
      case FLOAT, COMPLEX64 -> t.getFloatDataList().forEach(buf::putFloat);
      case DOUBLE, COMPLEX128 -> t.getDoubleDataList().forEach(buf::putDouble);
      case INT64 -> t.getInt64DataList().forEach(buf::putLong);
      case UINT64 -> t.getUint64DataList().forEach(buf::putLong);
      case UINT32 -> t.getUint64DataList().forEach(v -> buf.putInt((int) (long) v));
      case INT32 -> t.getInt32DataList().forEach(buf::putInt);
      case INT16, UINT16, FLOAT16, BFLOAT16 -> t.getInt32DataList().forEach(v -> buf.putShort((short) (int) v));
      default -> t.getInt32DataList().forEach(v -> buf.put((byte) (int) v));
    }
    if (buf.hasRemaining()) {
      throw new OnnxSkipException(
          "tensor '" + t.getName() + "' holds fewer values than its dims " + t.getDimsList() + " require");
    }
    return buf.array();
  }
}
