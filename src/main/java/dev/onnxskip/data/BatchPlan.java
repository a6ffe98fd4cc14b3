package dev.onnxskip.data;

import dev.onnxskip.OnnxSkipException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Splits an {@link EncodedDataset} into batches of at most {@code batchSize} examples and pads each
 * batch only as far as it needs.
 *
 * <p>By default examples are ordered by token count, longest first, before they are split: similar
 * lengths share a batch and little compute goes to padding, and the largest batch comes first, so
 * that one too big for memory fails at once rather than minutes in. The sort is stable (equal
 * lengths keep data order), so a plan is deterministic. Each batch remembers its examples' data-set
 * indices for putting predictions back in data order.
 *
 * <p>The plan holds only the order; {@link #batch(int)} builds a batch's padded arrays when asked, so
 * memory grows with the batch size, not with the data set.
 */
public final class BatchPlan implements Iterable<Batch>, BatchSource {

  /** The order examples are batched in. */
  public enum Order {
    /** By token count, longest first, ties in data order. */
    LONGEST_FIRST,
    /** Data order, for comparing with the sorted plan. */
    DATASET
  }

  /** How far each batch is padded. */
  public enum Padding {
    /** To the longest example of the batch. */
    LONGEST_IN_BATCH,
    /** To the data set's max length, whatever the examples, as a fixed-shape export expects. */
    MAX_LENGTH
  }

  private final EncodedDataset data;
  private final int batchSize;
  // The length every batch is padded to, or 0 to pad each to its longest example.
  private final int fixedLength;
  private final int[] order;

  private BatchPlan(EncodedDataset data, int batchSize, int fixedLength, int[] order) {
    this.data = data;
    this.batchSize = batchSize;
    this.fixedLength = fixedLength;
    this.order = order;
  }

  /** Sorted by length, padded per batch: the plan to evaluate with. */
  public static BatchPlan of(EncodedDataset data, int batchSize) {
    return of(data, batchSize, Order.LONGEST_FIRST, Padding.LONGEST_IN_BATCH);
  }

  public static BatchPlan of(EncodedDataset data, int batchSize, Order order, Padding padding) {
    return of(data, batchSize, order, padding == Padding.MAX_LENGTH ? data.maxLength() : 0);
  }

  /**
   * Every batch padded to {@code length} tokens, whatever its examples: what a model with a fixed
   * sequence length takes.
   *
   * @param length at least the data set's max length
   */
  public static BatchPlan padded(EncodedDataset data, int batchSize, Order order, int length) {
    if (length < data.maxLength()) {
      throw new IllegalArgumentException("padding to " + length + " tokens would cut texts of up to " + data.maxLength());
    }
    return of(data, batchSize, order, length);
  }

  private static BatchPlan of(EncodedDataset data, int batchSize, Order order, int fixedLength) {
    if (batchSize < 1) {
      throw new OnnxSkipException("batch size must be at least 1, got " + batchSize);
    }
    List<Integer> indices = new ArrayList<>(data.size());
    for (int i = 0; i < data.size(); i++) {
      indices.add(i);
    }
    if (order == Order.LONGEST_FIRST) {
      // List.sort is stable.
      indices.sort(Comparator.comparingInt((Integer i) -> data.length(i)).reversed());
    }
    return new BatchPlan(data, batchSize, fixedLength, indices.stream().mapToInt(Integer::intValue).toArray());
  }

  @Override
  public int exampleCount() {
    return data.size();
  }

  /** The number of batches. */
  @Override
  public int batchCount() {
    return (order.length + batchSize - 1) / batchSize;
  }

  /** The largest number of rows of a batch. */
  public int batchSize() {
    return batchSize;
  }

  /** The data-set indices of the examples of batch {@code batch}, row by row. */
  public int[] exampleIndices(int batch) {
    if (batch < 0 || batch >= batchCount()) {
      throw new IndexOutOfBoundsException("batch " + batch + " of " + batchCount());
    }
    return Arrays.copyOfRange(order, batch * batchSize, Math.min(order.length, (batch + 1) * batchSize));
  }

  /** The padded length of batch {@code batch}. */
  public int seqLen(int batch) {
    return seqLen(exampleIndices(batch));
  }

  private int seqLen(int[] examples) {
    if (fixedLength > 0) {
      return fixedLength;
    }
    int longest = 0;
    for (int example : examples) {
      longest = Math.max(longest, data.length(example));
    }
    return longest;
  }

  /** The number of token positions of all batches, padding included: what the model computes on. */
  public long paddedTokenCount() {
    long total = 0;
    for (int batch = 0; batch < batchCount(); batch++) {
      int[] examples = exampleIndices(batch);
      total += (long) examples.length * seqLen(examples);
    }
    return total;
  }

  /** Builds batch {@code batch}: new arrays, padded with the data set's pad id, mask 0 and type 0. */
  @Override
  public Batch batch(int batch) {
    int[] examples = exampleIndices(batch);
    int seqLen = seqLen(examples);
    long[] ids = new long[examples.length * seqLen];
    long[] mask = new long[ids.length];
    long[] typeIds = new long[ids.length];
    Arrays.fill(ids, data.padId());
    for (int row = 0; row < examples.length; row++) {
      data.get(examples[row]).copyInto(ids, typeIds, mask, row * seqLen);
    }
    return new Batch(batch, examples, seqLen, ids, mask, typeIds);
  }

  /** The batches in plan order, each built when reached. */
  @Override
  public Iterator<Batch> iterator() {
    return new Iterator<>() {
      private int next;

      @Override
      public boolean hasNext() {
        return next < batchCount();
      }

      @Override
      public Batch next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return batch(next++);
      }
    };
  }
}
