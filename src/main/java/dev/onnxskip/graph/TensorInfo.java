package dev.onnxskip.graph;

import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.List;

/**
 * What a graph input or output declares: its name, element type and dimensions, read once from
 * the protobuf so that callers outside {@code graph/} need none.
 *
 * @param dims a number, a symbolic name, or "?" for each dimension; empty when no shape is declared
 * @param description "float [batch_size, sequence_length, 384]", or the value kind for non-tensors
 */
public record TensorInfo(String name, ElementType elementType, List<String> dims, String description) {

  public TensorInfo {
    dims = List.copyOf(dims);
  }

  static TensorInfo of(ValueInfoProto v) {
    ElementType type = v.getType().hasTensorType()
        ? ElementType.of(v.getType().getTensorType().getElemType()) : ElementType.UNDEFINED;
    return new TensorInfo(v.getName(), type, TensorTypes.dims(v), TensorTypes.describe(v));
  }

  static List<TensorInfo> of(List<ValueInfoProto> values) {
    return values.stream().map(TensorInfo::of).toList();
  }

  /** The dimension at {@code axis} if it is a fixed number. */
  public java.util.OptionalLong fixedDim(int axis) {
    String d = axis < dims.size() ? dims.get(axis) : "";
    return d.matches("\\d+") ? java.util.OptionalLong.of(Long.parseLong(d)) : java.util.OptionalLong.empty();
  }
}
