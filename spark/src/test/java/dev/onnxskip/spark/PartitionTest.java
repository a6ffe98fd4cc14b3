package dev.onnxskip.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How the batches still to do are cut into partitions, and how many by default. */
class PartitionTest {

  @Test
  void evenCostsGiveEvenConsecutiveGroups() {
    assertEquals(List.of(List.of(0, 1), List.of(2, 3), List.of(4, 5), List.of(6, 7)),
        SparkEngine.partition(List.of(0, 1, 2, 3, 4, 5, 6, 7), new long[] {1, 1, 1, 1, 1, 1, 1, 1}, 4));
  }

  @Test
  void costlyBatchesFirstGetGroupsOfTheirOwn() {
    // Total 16, shares of 8: the first batch alone is one, the six cheap ones the other.
    assertEquals(List.of(List.of(3), List.of(5, 6, 7, 8, 9, 10)),
        SparkEngine.partition(List.of(3, 5, 6, 7, 8, 9, 10), new long[] {8, 1, 1, 2, 1, 2, 1}, 2));
  }

  @Test
  void everyGroupGetsABatchAndNoneIsLeftOver() {
    assertEquals(List.of(List.of(0), List.of(1), List.of(2)), SparkEngine.partition(List.of(0, 1, 2), new long[] {100, 1, 1}, 3));
    assertEquals(List.of(List.of(0), List.of(1)), SparkEngine.partition(List.of(0, 1), new long[] {1, 1}, 5));
  }

  @Test
  void theDefaultIsTwoTasksPerCoreAndMoreForLargeResults() {
    assertEquals(4, SparkEngine.defaultPartitions(2, 1000, 22));
    // 1,000 examples x 301 variants (all spans of 24 layers) over 32,768 per partition.
    assertEquals(10, SparkEngine.defaultPartitions(2, 1000, 301));
  }
}
