package dev.onnxskip.spark;

import dev.onnxskip.data.Batch;
import java.io.Serializable;
import java.util.List;

/**
 * What one Spark task evaluates: consecutive whole batches of the run's plan, with their token
 * arrays, so that executors need neither the data file nor the tokenizer.
 *
 * @param partition the task's place among the run's partitions, from 0
 */
record PartitionWork(int partition, List<ShippedBatch> batches) implements Serializable {

  PartitionWork {
    // A serializable list, whatever view of the plan's batches this was given.
    batches = List.copyOf(batches);
  }

  int examples() {
    return batches.stream().mapToInt(b -> b.rows().length).sum();
  }

  /** One padded batch as plain arrays; {@code rows} are the examples' places in the data set. */
  record ShippedBatch(int index, int[] rows, int seqLen, long[] ids, long[] mask, long[] typeIds) implements Serializable {

    static ShippedBatch of(Batch batch) {
      return new ShippedBatch(batch.index(), batch.exampleIndices(), batch.seqLen(), batch.ids(), batch.mask(), batch.typeIds());
    }

    Batch batch() {
      return new Batch(index, rows, seqLen, ids, mask, typeIds);
    }
  }

  /**
   * What a task gives back: every (variant, rows, outputs) its engine reported, the variant and
   * outputs in {@link Shipped} form.
   */
  record Result(int partition, int examples, List<Output> outputs) implements Serializable {}

  record Output(Serializable variant, int[] rows, Serializable outputs) implements Serializable {}
}
