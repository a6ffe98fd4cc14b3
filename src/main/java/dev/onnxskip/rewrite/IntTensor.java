package dev.onnxskip.rewrite;

import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * A small integer tensor (int64 or int32) with the handful of ONNX operators that shape arithmetic
 * uses: what {@link StaticShapes} needs to fold Shape, Gather, Unsqueeze, Concat and friends into
 * constants. Values are held as longs whatever the element type; int32 results are narrowed as the
 * operators would narrow them.
 */
record IntTensor(DataType type, long[] shape, long[] values) {

  IntTensor {
    if (type != DataType.INT64 && type != DataType.INT32) {
      throw new IllegalArgumentException("only int64 and int32 tensors fold, not " + type);
    }
    if (count(shape) != values.length) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " does not hold " + values.length + " values");
    }
  }

  static IntTensor vector(long... values) {
    return new IntTensor(DataType.INT64, new long[] {values.length}, values);
  }

  static IntTensor scalar(long value) {
    return new IntTensor(DataType.INT64, new long[0], new long[] {value});
  }

  /** Reads an int64 or int32 tensor from its little-endian raw bytes. */
  static IntTensor fromRaw(DataType type, long[] shape, byte[] raw) {
    ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
    long[] values = new long[Math.toIntExact(count(shape))];
    for (int i = 0; i < values.length; i++) {
      values[i] = type == DataType.INT64 ? b.getLong() : b.getInt();
    }
    return new IntTensor(type, shape, values);
  }

  TensorProto toProto(String name) {
    int size = type == DataType.INT64 ? Long.BYTES : Integer.BYTES;
    ByteBuffer raw = ByteBuffer.allocate(values.length * size).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      if (type == DataType.INT64) {
        raw.putLong(v);
      } else {
        raw.putInt((int) v);
      }
    }
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type.getNumber())
        .setRawData(ByteString.copyFrom(raw.array()));
    for (long d : shape) {
      t.addDims(d);
    }
    return t.build();
  }

  int rank() {
    return shape.length;
  }

  static long count(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** Normalizes a possibly negative axis of a tensor of the given rank. */
  static int axis(long axis, int rank) {
    long a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      throw new IllegalArgumentException("axis " + axis + " is outside rank " + rank);
    }
    return (int) a;
  }

  private static long[] strides(long[] shape) {
    long[] s = new long[shape.length];
    long step = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      s[i] = step;
      step *= shape[i];
    }
    return s;
  }

  /** The same values under another shape (Unsqueeze, Squeeze, Reshape). */
  IntTensor reshaped(long[] newShape) {
    return new IntTensor(type, newShape, values);
  }

  IntTensor castTo(DataType to) {
    long[] v = values.clone();
    if (to == DataType.INT32) {
      for (int i = 0; i < v.length; i++) {
        v[i] = (int) v[i];
      }
    }
    return new IntTensor(to, shape, v);
  }

  /** ONNX Gather along {@code axis}; negative indices count from the end. */
  IntTensor gather(IntTensor indices, long axisAttr) {
    int ax = axis(axisAttr, rank());
    long outer = count(Arrays.copyOfRange(shape, 0, ax));
    long inner = count(Arrays.copyOfRange(shape, ax + 1, rank()));
    long dim = shape[ax];
    long[] outShape = concat(Arrays.copyOfRange(shape, 0, ax), indices.shape, Arrays.copyOfRange(shape, ax + 1, rank()));
    long[] out = new long[Math.toIntExact(count(outShape))];
    int k = 0;
    for (long o = 0; o < outer; o++) {
      for (long idx : indices.values) {
        long i = idx < 0 ? idx + dim : idx;
        if (i < 0 || i >= dim) {
          throw new IllegalArgumentException("Gather index " + idx + " is outside dimension " + dim);
        }
        for (long in = 0; in < inner; in++) {
          out[k++] = values[(int) ((o * dim + i) * inner + in)];
        }
      }
    }
    return new IntTensor(type, outShape, out);
  }

  /** ONNX Concat of same-rank tensors along {@code axis}. */
  static IntTensor concat(List<IntTensor> parts, long axisAttr) {
    IntTensor first = parts.get(0);
    int ax = axis(axisAttr, first.rank());
    long[] outShape = first.shape.clone();
    outShape[ax] = 0;
    for (IntTensor p : parts) {
      if (p.rank() != first.rank()) {
        throw new IllegalArgumentException("Concat of ranks " + first.rank() + " and " + p.rank());
      }
      outShape[ax] += p.shape[ax];
    }
    long outer = count(Arrays.copyOfRange(outShape, 0, ax));
    long[] out = new long[Math.toIntExact(count(outShape))];
    int k = 0;
    for (long o = 0; o < outer; o++) {
      for (IntTensor p : parts) {
        long block = count(Arrays.copyOfRange(p.shape, ax, p.rank()));
        System.arraycopy(p.values, (int) (o * block), out, k, (int) block);
        k += (int) block;
      }
    }
    return new IntTensor(first.type, outShape, out);
  }

  /** ONNX Slice with per-axis starts, ends and steps, clamped as the operator clamps them. */
  IntTensor slice(long[] starts, long[] ends, long[] axes, long[] steps) {
    long[] begin = new long[rank()];
    long[] step = new long[rank()];
    long[] outShape = shape.clone();
    Arrays.fill(step, 1);
    for (int i = 0; i < starts.length; i++) {
      int ax = axis(axes[i], rank());
      long dim = shape[ax];
      long st = steps[i];
      if (st == 0) {
        throw new IllegalArgumentException("Slice step 0");
      }
      long s = starts[i] < 0 ? starts[i] + dim : starts[i];
      long e = ends[i] < 0 ? ends[i] + dim : ends[i];
      if (st > 0) {
        s = Math.max(0, Math.min(s, dim));
        e = Math.max(0, Math.min(e, dim));
        outShape[ax] = Math.max(0, (e - s + st - 1) / st);
      } else {
        s = Math.max(-1, Math.min(s, dim - 1));
        e = Math.max(-1, Math.min(e, dim - 1));
        outShape[ax] = Math.max(0, (s - e - st - 1) / -st);
      }
      begin[ax] = s;
      step[ax] = st;
    }
    long[] inStrides = strides(shape);
    long[] outStrides = strides(outShape);
    long[] out = new long[Math.toIntExact(count(outShape))];
    for (int k = 0; k < out.length; k++) {
      long src = 0;
      long rest = k;
      for (int d = 0; d < rank(); d++) {
        long idx = rest / outStrides[d];
        rest %= outStrides[d];
        src += (begin[d] + idx * step[d]) * inStrides[d];
      }
      out[k] = values[(int) src];
    }
    return new IntTensor(type, outShape, out);
  }

  /** Element-wise Add, Sub, Mul or Div with multidirectional broadcasting; Div truncates like C. */
  IntTensor arithmetic(String op, IntTensor other) {
    int rank = Math.max(rank(), other.rank());
    long[] a = padLeft(shape, rank);
    long[] b = padLeft(other.shape, rank);
    long[] outShape = new long[rank];
    for (int d = 0; d < rank; d++) {
      if (a[d] != b[d] && a[d] != 1 && b[d] != 1) {
        throw new IllegalArgumentException("cannot broadcast " + Arrays.toString(shape) + " with " + Arrays.toString(other.shape));
      }
      outShape[d] = a[d] == 1 ? b[d] : a[d];
    }
    long[] as = strides(a);
    long[] bs = strides(b);
    long[] os = strides(outShape);
    long[] out = new long[Math.toIntExact(count(outShape))];
    for (int k = 0; k < out.length; k++) {
      long ai = 0;
      long bi = 0;
      long rest = k;
      for (int d = 0; d < rank; d++) {
        long idx = rest / os[d];
        rest %= os[d];
        ai += (a[d] == 1 ? 0 : idx) * as[d];
        bi += (b[d] == 1 ? 0 : idx) * bs[d];
      }
      long x = values[(int) ai];
      long y = other.values[(int) bi];
      long r = switch (op) {
        case "Add" -> x + y;
        case "Sub" -> x - y;
        case "Mul" -> x * y;
        case "Div" -> {
          if (y == 0) {
            throw new IllegalArgumentException("integer division by zero");
          }
          yield x / y;
        }
        default -> throw new IllegalArgumentException("not an arithmetic op: " + op);
      };
      out[k] = type == DataType.INT32 ? (int) r : r;
    }
    return new IntTensor(type, outShape, out);
  }

  private static long[] padLeft(long[] shape, int rank) {
    long[] p = new long[rank];
    Arrays.fill(p, 1);
    System.arraycopy(shape, 0, p, rank - shape.length, shape.length);
    return p;
  }

  private static long[] concat(long[]... parts) {
    int n = 0;
    for (long[] p : parts) {
      n += p.length;
    }
    long[] out = new long[n];
    int k = 0;
    for (long[] p : parts) {
      System.arraycopy(p, 0, out, k, p.length);
      k += p.length;
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IntTensor t && type == t.type && Arrays.equals(shape, t.shape) && Arrays.equals(values, t.values);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * type.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    return type.name().toLowerCase(java.util.Locale.ROOT) + Arrays.toString(shape) + Arrays.toString(values);
  }
}
