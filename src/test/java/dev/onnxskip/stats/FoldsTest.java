package dev.onnxskip.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class FoldsTest {

  @Test
  void everyExampleIsHeldOutOnceAndTheFoldsDifferBySizeByAtMostOne() {
    Folds folds = Folds.of(23, 5);
    int[] heldCount = new int[23];
    int smallest = Integer.MAX_VALUE;
    int largest = 0;
    for (int f = 0; f < 5; f++) {
      int[] held = folds.held(f);
      int[] training = folds.training(f);
      assertEquals(23, held.length + training.length);
      assertArrayEquals(IntStream.range(0, 23).toArray(), IntStream.concat(IntStream.of(held), IntStream.of(training)).sorted().toArray());
      Arrays.stream(held).forEach(i -> heldCount[i]++);
      smallest = Math.min(smallest, held.length);
      largest = Math.max(largest, held.length);
    }
    assertArrayEquals(IntStream.generate(() -> 1).limit(23).toArray(), heldCount);
    assertEquals(4, smallest);
    assertEquals(5, largest);
  }

  @Test
  void theSplitIsTheSameEveryTimeAndNotInDataOrder() {
    assertArrayEquals(Folds.of(40, 4).fold(), Folds.of(40, 4).fold());
    int[] inOrder = IntStream.range(0, 40).map(i -> i % 4).toArray();
    assertEquals(false, Arrays.equals(inOrder, Folds.of(40, 4).fold()), "shuffled, so sorted data does not make sorted folds");
  }

  @Test
  void tooFewExamplesOrFoldsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> Folds.of(3, 4));
    assertThrows(IllegalArgumentException.class, () -> Folds.of(10, 1));
  }
}
