package dev.onnxskip.rewrite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shape arithmetic that StaticShapes folds, against results worked out by hand from the ONNX operator docs. */
class IntTensorTest {

  /** [[0, 1, 2], [3, 4, 5]] */
  private static final IntTensor M = new IntTensor(DataType.INT64, new long[] {2, 3}, new long[] {0, 1, 2, 3, 4, 5});

  @Test
  void gatherTakesAlongTheAxisWithNegativeIndices() {
    assertEquals(IntTensor.scalar(30), IntTensor.vector(10, 20, 30).gather(IntTensor.scalar(-1), 0));
    // Column -1 then column 0 of each row: [[2, 0], [5, 3]].
    IntTensor cols = M.gather(IntTensor.vector(-1, 0), 1);
    assertArrayEquals(new long[] {2, 2}, cols.shape());
    assertArrayEquals(new long[] {2, 0, 5, 3}, cols.values());
    assertThrows(IllegalArgumentException.class, () -> M.gather(IntTensor.scalar(2), 0));
  }

  @Test
  void concatJoinsAlongAnyAxis() {
    assertEquals(IntTensor.vector(1, 16, 12, 32),
        IntTensor.concat(List.of(IntTensor.vector(1), IntTensor.vector(16), IntTensor.vector(12, 32)), 0));
    IntTensor wide = IntTensor.concat(List.of(M, M.gather(IntTensor.vector(0), 1)), 1);
    assertArrayEquals(new long[] {2, 4}, wide.shape());
    assertArrayEquals(new long[] {0, 1, 2, 0, 3, 4, 5, 3}, wide.values());
  }

  @Test
  void sliceClampsAndStepsBackwards() {
    IntTensor positions = new IntTensor(DataType.INT64, new long[] {1, 8}, new long[] {0, 1, 2, 3, 4, 5, 6, 7});
    // positions[:, 0:5], with an end past the data clamped: the position ids of a 5-token input.
    IntTensor first5 = positions.slice(new long[] {0}, new long[] {5}, new long[] {1}, new long[] {1});
    assertArrayEquals(new long[] {1, 5}, first5.shape());
    assertArrayEquals(new long[] {0, 1, 2, 3, 4}, first5.values());
    IntTensor clamped = positions.slice(new long[] {-3}, new long[] {Long.MAX_VALUE}, new long[] {-1}, new long[] {1});
    assertArrayEquals(new long[] {5, 6, 7}, clamped.values());
    // [::-2] over 8 elements: 7, 5, 3, 1.
    IntTensor back = IntTensor.vector(0, 1, 2, 3, 4, 5, 6, 7)
        .slice(new long[] {-1}, new long[] {Long.MIN_VALUE}, new long[] {0}, new long[] {-2});
    assertArrayEquals(new long[] {7, 5, 3, 1}, back.values());
  }

  @Test
  void arithmeticBroadcastsAndDividesLikeC() {
    IntTensor sum = M.arithmetic("Add", IntTensor.vector(10, 20, 30));
    assertArrayEquals(new long[] {10, 21, 32, 13, 24, 35}, sum.values());
    IntTensor col = new IntTensor(DataType.INT64, new long[] {2, 1}, new long[] {100, 200});
    assertArrayEquals(new long[] {100, 99, 98, 197, 196, 195}, col.arithmetic("Sub", M).values());
    assertArrayEquals(new long[] {-2, 2}, IntTensor.vector(-7, 7).arithmetic("Div", IntTensor.scalar(3)).values());
    assertEquals(IntTensor.scalar(384), IntTensor.scalar(12).arithmetic("Mul", IntTensor.scalar(32)));
    assertThrows(IllegalArgumentException.class, () -> M.arithmetic("Add", IntTensor.vector(1, 2)));
    assertThrows(IllegalArgumentException.class, () -> M.arithmetic("Div", IntTensor.scalar(0)));
  }

  @Test
  void int32CastsNarrowAndRoundTripThroughTheProto() {
    IntTensor big = IntTensor.vector(1L << 33 | 5, -1);
    IntTensor narrow = big.castTo(DataType.INT32);
    assertArrayEquals(new long[] {5, -1}, narrow.values());
    var proto = narrow.toProto("t");
    assertEquals(8, proto.getRawData().size());
    assertEquals(narrow, IntTensor.fromRaw(DataType.INT32, new long[] {2}, proto.getRawData().toByteArray()));
  }
}
