package dev.onnxskip.graph;

import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayList;
import java.util.List;

/** Element sizes and readable type and shape strings for ONNX tensors. */
public final class TensorTypes {
  private TensorTypes() {}

  /** Bytes per element; 0 for strings and unknown types, whose size the dims cannot tell. */
  public static int elementSize(int dataType) {
    return ElementType.of(dataType).byteSize();
  }

  public static long elementCount(TensorProto t) {
    long n = 1;
    for (long d : t.getDimsList()) {
      n *= d;
    }
    return n;
  }

  public static long byteSize(TensorProto t) {
    return elementCount(t) * elementSize(t.getDataType());
  }

  public static String typeName(int dataType) {
    DataType t = DataType.forNumber(dataType);
    return t == null ? "type" + dataType : t.name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Dimensions as strings: a number, a symbolic name, or "?" for an unknown dimension. */
  public static List<String> dims(ValueInfoProto v) {
    List<String> dims = new ArrayList<>();
    TypeProto type = v.getType();
    if (!type.hasTensorType() || !type.getTensorType().hasShape()) {
      return dims;
    }
    for (TensorShapeProto.Dimension d : type.getTensorType().getShape().getDimList()) {
      dims.add(d.hasDimValue() ? Long.toString(d.getDimValue()) : d.hasDimParam() ? d.getDimParam() : "?");
    }
    return dims;
  }

  /** "float [batch_size, sequence_length, 384]", or the value kind for non-tensors. */
  public static String describe(ValueInfoProto v) {
    TypeProto type = v.getType();
    if (!type.hasTensorType()) {
      return type.getValueCase().name().toLowerCase(java.util.Locale.ROOT);
    }
    String elem = typeName(type.getTensorType().getElemType());
    if (!type.getTensorType().hasShape()) {
      return elem;
    }
    return elem + " [" + String.join(", ", dims(v)) + "]";
  }
}
