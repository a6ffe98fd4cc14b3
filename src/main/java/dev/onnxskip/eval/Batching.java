package dev.onnxskip.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Plans batches over a tokenized data set: examples sorted by token length (stable, so the plan
 * is the same every run) so that each batch, padded only to its own longest example, wastes
 * little compute on padding. Padded tensors are built when a batch is asked for, so memory holds
 * one batch at a time.
 */
public final class Batching implements BatchSource {
  private final EncodedDataset data;
  private final List<int[]> plan;
  private final int fixedLength;

  private Batching(EncodedDataset data, List<int[]> plan, int fixedLength) {
    this.data = data;
    this.plan = plan;
    this.fixedLength = fixedLength;
  }

  /**
   * @param sortByLength sort by token length first; without it, batches follow dataset order
   */
  public static Batching of(EncodedDataset data, int batchSize, boolean sortByLength) {
    return new Batching(data, plan(data, batchSize, sortByLength), 0);
  }

  /** Every batch padded to the data set's maximum length, as fixed-shape pipelines do; for comparison. */
  public static Batching fixedLength(EncodedDataset data, int batchSize) {
    return new Batching(data, plan(data, batchSize, false), data.maxLength());
  }

  private static List<int[]> plan(EncodedDataset data, int batchSize, boolean sortByLength) {
    Integer[] order = IntStream.range(0, data.size()).boxed().toArray(Integer[]::new);
    if (sortByLength) {
      Arrays.sort(order, Comparator.comparingInt(data::length));
    }
    List<int[]> plan = new ArrayList<>();
    for (int start = 0; start < order.length; start += batchSize) {
      int end = Math.min(start + batchSize, order.length);
      plan.add(Arrays.stream(order, start, end).mapToInt(Integer::intValue).toArray());
    }
    return List.copyOf(plan);
  }

  @Override
  public int batchCount() {
    return plan.size();
  }

  @Override
  public int exampleCount() {
    return data.size();
  }

  @Override
  public TokenBatch batch(int i) {
    int[] rows = plan.get(i);
    int seq = fixedLength > 0 ? fixedLength : Arrays.stream(rows).map(data::length).max().orElse(1);
    long[] ids = new long[rows.length * seq];
    long[] mask = new long[rows.length * seq];
    long[] types = new long[rows.length * seq];
    Arrays.fill(ids, data.padId());
    for (int r = 0; r < rows.length; r++) {
      Encoding e = data.get(rows[r]);
      System.arraycopy(e.ids(), 0, ids, r * seq, e.length());
      System.arraycopy(e.mask(), 0, mask, r * seq, e.length());
      System.arraycopy(e.typeIds(), 0, types, r * seq, e.length());
    }
    return new TokenBatch(rows.clone(), seq, ids, mask, types);
  }
}
