package dev.onnxskip.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.onnxskip.OnnxSkipException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BatchPlanTest {

  /** Example i has the given length; its ids are 1000*i + position + 1, type ids 1 after half. */
  private static EncodedDataset dataset(long padId, int maxLength, int... lengths) {
    List<Encoding> encodings = new ArrayList<>();
    for (int i = 0; i < lengths.length; i++) {
      long[] ids = new long[lengths[i]];
      long[] typeIds = new long[lengths[i]];
      long[] mask = new long[lengths[i]];
      for (int t = 0; t < lengths[i]; t++) {
        ids[t] = 1000L * i + t + 1;
        typeIds[t] = t < lengths[i] / 2 ? 0 : 1;
        mask[t] = 1;
      }
      encodings.add(new Encoding(ids, typeIds, mask));
    }
    return new EncodedDataset(encodings, maxLength, padId);
  }

  private static List<int[]> batches(BatchPlan plan) {
    List<int[]> batches = new ArrayList<>();
    for (Batch batch : plan) {
      batches.add(batch.exampleIndices());
    }
    return batches;
  }

  @Test
  void sortsLongestFirstKeepingDataOrderForEqualLengths() {
    EncodedDataset data = dataset(0, 16, 3, 7, 5, 7, 1, 5, 3);
    BatchPlan plan = BatchPlan.of(data, 3);

    assertEquals(3, plan.batchCount());
    List<int[]> batches = batches(plan);
    assertArrayEquals(new int[] {1, 3, 2}, batches.get(0));
    assertArrayEquals(new int[] {5, 0, 6}, batches.get(1));
    assertArrayEquals(new int[] {4}, batches.get(2));
    assertArrayEquals(new int[] {7, 5, 1}, new int[] {plan.seqLen(0), plan.seqLen(1), plan.seqLen(2)});
  }

  @Test
  void padsEachBatchToItsLongestExampleWithPadIdMaskZeroAndTypeZero() {
    EncodedDataset data = dataset(9, 16, 4, 2, 6, 1, 3);
    BatchPlan plan = BatchPlan.of(data, 2);

    int seen = 0;
    for (Batch batch : plan) {
      int longest = Arrays.stream(batch.exampleIndices()).map(data::length).max().orElseThrow();
      assertEquals(longest, batch.seqLen());
      assertArrayEquals(new long[] {batch.batchSize(), longest}, batch.shape());
      assertEquals(batch.batchSize() * batch.seqLen(), batch.ids().length);
      for (int row = 0; row < batch.batchSize(); row++) {
        Encoding encoding = data.get(batch.exampleIndex(row));
        int offset = row * batch.seqLen();
        for (int t = 0; t < batch.seqLen(); t++) {
          boolean real = t < encoding.length();
          assertEquals(real ? encoding.ids()[t] : 9, batch.ids()[offset + t]);
          assertEquals(real ? encoding.typeIds()[t] : 0, batch.typeIds()[offset + t]);
          assertEquals(real ? 1 : 0, batch.mask()[offset + t]);
        }
        seen++;
      }
    }
    assertEquals(data.size(), seen);
    // Batches {6, 4}, {3, 2}, {1} padded to 6, 3 and 1.
    assertEquals(2 * 6 + 2 * 3 + 1, plan.paddedTokenCount());
  }

  @Test
  void dataOrderKeepsConsecutiveExamplesAndStillPadsPerBatch() {
    EncodedDataset data = dataset(0, 16, 4, 2, 6, 1, 3);
    BatchPlan plan = BatchPlan.of(data, 2, BatchPlan.Order.DATASET, BatchPlan.Padding.LONGEST_IN_BATCH);

    List<int[]> batches = batches(plan);
    assertArrayEquals(new int[] {0, 1}, batches.get(0));
    assertArrayEquals(new int[] {2, 3}, batches.get(1));
    assertArrayEquals(new int[] {4}, batches.get(2));
    assertArrayEquals(new int[] {4, 6, 3}, new int[] {plan.seqLen(0), plan.seqLen(1), plan.seqLen(2)});
    assertEquals(2 * 4 + 2 * 6 + 3, plan.paddedTokenCount());
  }

  @Test
  void fixedPaddingPadsEveryBatchToMaxLength() {
    EncodedDataset data = dataset(0, 16, 4, 2, 6);
    BatchPlan plan = BatchPlan.of(data, 2, BatchPlan.Order.LONGEST_FIRST, BatchPlan.Padding.MAX_LENGTH);
    for (Batch batch : plan) {
      assertEquals(16, batch.seqLen());
      assertEquals(batch.batchSize() * 16, batch.mask().length);
      assertEquals(
          Arrays.stream(batch.exampleIndices()).map(data::length).sum(),
          Arrays.stream(batch.mask()).sum());
    }
    assertEquals(3 * 16, plan.paddedTokenCount());
  }

  /** A model with a fixed sequence length takes batches padded to it, past the data set's max length. */
  @Test
  void paddedToAFixedLengthPadsEveryBatchToIt() {
    EncodedDataset data = dataset(0, 8, 4, 2, 6);
    BatchPlan plan = BatchPlan.padded(data, 2, BatchPlan.Order.LONGEST_FIRST, 12);
    for (Batch batch : plan) {
      assertEquals(12, batch.seqLen());
      assertEquals(Arrays.stream(batch.exampleIndices()).map(data::length).sum(), Arrays.stream(batch.mask()).sum());
      for (int row = 0; row < batch.batchSize(); row++) {
        assertArrayEquals(data.get(batch.exampleIndices()[row]).ids(), Arrays.copyOfRange(batch.ids(), row * 12,
            row * 12 + data.length(batch.exampleIndices()[row])));
      }
    }
    assertEquals(3 * 12, plan.paddedTokenCount());
    assertThrows(IllegalArgumentException.class, () -> BatchPlan.padded(data, 2, BatchPlan.Order.DATASET, 7));
  }

  /** What a model might compute per row: the sum of the ids the mask lets through. */
  private static long rowScore(Batch batch, int row) {
    long sum = 0;
    for (int t = 0; t < batch.seqLen(); t++) {
      int at = row * batch.seqLen() + t;
      sum += batch.ids()[at] * batch.mask()[at];
    }
    return sum;
  }

  @Test
  void predictionsScatteredByExampleIndexComeBackInDataOrder() {
    Random random = new Random(3);
    int[] lengths = random.ints(103, 1, 40).toArray();
    EncodedDataset data = dataset(5, 40, lengths);
    long[] expected = new long[data.size()];
    for (int i = 0; i < expected.length; i++) {
      expected[i] = Arrays.stream(data.get(i).ids()).sum();
    }

    for (BatchPlan.Order order : BatchPlan.Order.values()) {
      for (BatchPlan.Padding padding : BatchPlan.Padding.values()) {
        long[] predictions = new long[data.size()];
        Arrays.fill(predictions, -1);
        for (Batch batch : BatchPlan.of(data, 8, order, padding)) {
          for (int row = 0; row < batch.batchSize(); row++) {
            predictions[batch.exampleIndex(row)] = rowScore(batch, row);
          }
        }
        assertArrayEquals(expected, predictions, order + " " + padding);
      }
    }
  }

  @Test
  void sortingReducesPaddingOnMixedLengths() {
    EncodedDataset data = dataset(0, 64, 60, 2, 58, 3, 61, 1, 59, 2);
    long sorted = BatchPlan.of(data, 2).paddedTokenCount();
    long unsorted =
        BatchPlan.of(data, 2, BatchPlan.Order.DATASET, BatchPlan.Padding.LONGEST_IN_BATCH).paddedTokenCount();
    assertEquals(2 * (61 + 59 + 3 + 2), sorted);
    assertEquals(2 * (60 + 58 + 61 + 59), unsorted);
  }

  @Test
  void eachCallBuildsFreshArrays() {
    BatchPlan plan = BatchPlan.of(dataset(0, 8, 3, 2), 2);
    Batch first = plan.batch(0);
    first.ids()[0] = -7;
    Batch again = plan.batch(0);
    assertNotSame(first.ids(), again.ids());
    assertEquals(1, again.ids()[0]);
  }

  @Test
  void convertsToInt32() {
    Batch batch = BatchPlan.of(dataset(0, 8, 3), 1).batch(0);
    assertArrayEquals(new int[] {1, 2, 3}, Batch.toInt32(batch.ids()));
    assertArrayEquals(new int[] {0, 1, 1}, Batch.toInt32(batch.typeIds()));
    assertThrows(ArithmeticException.class, () -> Batch.toInt32(new long[] {1L << 40}));
  }

  @Test
  void rejectsBadBatchSizesAndIndices() {
    EncodedDataset data = dataset(0, 8, 3, 2);
    assertEquals("batch size must be at least 1, got 0",
        assertThrows(OnnxSkipException.class, () -> BatchPlan.of(data, 0)).getMessage());
    BatchPlan plan = BatchPlan.of(data, 5);
    assertEquals(1, plan.batchCount());
    assertThrows(IndexOutOfBoundsException.class, () -> plan.batch(1));
  }
}
