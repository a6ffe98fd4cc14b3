package dev.onnxskip.graph;

/**
 * ONNX tensor element types, numbered as in the ONNX specification, so that code outside
 * {@code graph/} can test a tensor's type without the protobuf enum.
 */
public enum ElementType {
  UNDEFINED(0, 0),
  FLOAT(1, 4),
  UINT8(2, 1),
  INT8(3, 1),
  UINT16(4, 2),
  INT16(5, 2),
  INT32(6, 4),
  INT64(7, 8),
  STRING(8, 0),
  BOOL(9, 1),
  FLOAT16(10, 2),
  DOUBLE(11, 8),
  UINT32(12, 4),
  UINT64(13, 8),
  COMPLEX64(14, 8),
  COMPLEX128(15, 16),
  BFLOAT16(16, 2),
  FLOAT8E4M3FN(17, 1),
  FLOAT8E4M3FNUZ(18, 1),
  FLOAT8E5M2(19, 1),
  FLOAT8E5M2FNUZ(20, 1),
  // Sub-byte types pack two elements a byte: no whole-byte size per element.
  UINT4(21, 0),
  INT4(22, 0);

  private final int code;
  private final int byteSize;

  ElementType(int code, int byteSize) {
    this.code = code;
    this.byteSize = byteSize;
  }

  /** The type with this ONNX code; {@link #UNDEFINED} for codes this version does not know. */
  public static ElementType of(int code) {
    for (ElementType t : values()) {
      if (t.code == code) {
        return t;
      }
    }
    return UNDEFINED;
  }

  public int code() {
    return code;
  }

  /** Bytes per element; 0 for strings, sub-byte and unknown types, whose size the dims cannot tell. */
  public int byteSize() {
    return byteSize;
  }

  public boolean isFloatingPoint() {
    return this == FLOAT || this == FLOAT16 || this == BFLOAT16 || this == DOUBLE;
  }
}
