package dev.onnxskip.graph;

import ai.onnx.proto.OnnxMl.TensorProto;
import java.util.List;

/** An initializer's name, element type and shape, without its bytes. */
public record WeightInfo(String name, ElementType elementType, List<Long> dims) {

  public WeightInfo {
    dims = List.copyOf(dims);
  }

  static WeightInfo of(TensorProto t) {
    return new WeightInfo(t.getName(), ElementType.of(t.getDataType()), t.getDimsList());
  }

  public long elementCount() {
    long n = 1;
    for (long d : dims) {
      n *= d;
    }
    return n;
  }

  /** Bytes of its elements; 0 for types without a whole-byte element size (strings, 4-bit). */
  public long byteSize() {
    return elementCount() * elementType.byteSize();
  }
}
