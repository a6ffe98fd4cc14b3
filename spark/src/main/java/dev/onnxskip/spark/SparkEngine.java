package dev.onnxskip.spark;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.data.BatchSource;
import dev.onnxskip.eval.EvalEngine;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.ClassifierOutputs;
import java.io.PrintWriter;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SimpleFutureAction;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import scala.Function0;
import scala.Function1;
import scala.Function2;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.BoxedUnit;
import scala.util.Try;

/**
 * Evaluates on a Spark cluster, data-parallel over examples: the batches still to do are cut into
 * ordered partitions of whole batches, each task runs {@code eval}'s own engine on its partition
 * for every variant, and the driver hands each finished partition to the run (which journals it)
 * as one unit, so that a job submitted again after the driver died skips what had finished.
 */
final class SparkEngine implements EvalEngine, AutoCloseable {

  /**
   * A partition's results (logits and features of every variant) travel to the driver in one
   * piece; past this many example-variants the default cuts more partitions.
   */
  static final long EXAMPLE_VARIANTS_PER_PARTITION = 32_768;

  /** How a run is laid out on the cluster, and the test hooks Spark's configuration can set. */
  record Layout(int partitions, int failFirstAttemptOf, int driverStopsAfter) {
    static final int NONE = -1;
  }

  private final JavaSparkContext spark;
  private final BatchSource batches;
  private final JobSpecs specs;
  private final Layout layout;
  private final PrintWriter log;

  /** Makes a run's job spec for the variants still to do. */
  @FunctionalInterface
  interface JobSpecs {
    JobSpec forVariants(List<Variant> todo, int failFirstAttemptOf);
  }

  SparkEngine(JavaSparkContext spark, BatchSource batches, JobSpecs specs, Layout layout, PrintWriter log) {
    this.spark = spark;
    this.batches = batches;
    this.specs = specs;
    this.layout = layout;
    this.log = log;
  }

  /** The partition count when none is asked for: two tasks per core, more where results would get large. */
  static int defaultPartitions(int cores, long examples, int variants) {
    long bySize = (examples * variants + EXAMPLE_VARIANTS_PER_PARTITION - 1) / EXAMPLE_VARIANTS_PER_PARTITION;
    return (int) Math.min(Integer.MAX_VALUE, Math.max(2L * cores, bySize));
  }

  /**
   * Consecutive groups of the batches {@code left}, {@code count} of them (fewer where there are
   * fewer batches), each cut where the running cost comes closest to an even share: batches sorted
   * longest first cost more at the front, and equal counts would leave the first task the slowest.
   *
   * @param cost each batch's cost, in the order of {@code left}
   */
  static List<List<Integer>> partition(List<Integer> left, long[] cost, int count) {
    int groups = Math.min(count, left.size());
    long total = 0;
    for (long c : cost) {
      total += c;
    }
    List<List<Integer>> out = new ArrayList<>(groups);
    int start = 0;
    long done = 0;
    for (int g = 0; g < groups; g++) {
      double share = (double) total * (g + 1) / groups;
      // At least one batch, and one left for every later group.
      int end = start + 1;
      done += cost[start];
      int lastEnd = g == groups - 1 ? left.size() : left.size() - (groups - 1 - g);
      while (end < lastEnd && (g == groups - 1 || done + cost[end] / 2.0 <= share)) {
        done += cost[end];
        end++;
      }
      out.add(left.subList(start, end));
      start = end;
    }
    return out;
  }

  @Override
  public void run(List<Variant> todo, Set<Integer> skipBatches, Sink sink, Progress progress) {
    List<Integer> left = new ArrayList<>();
    for (int b = 0; b < batches.batchCount(); b++) {
      if (!skipBatches.contains(b)) {
        left.add(b);
      }
    }
    if (left.isEmpty() || todo.isEmpty()) {
      return;
    }
    int partitions = layout.partitions() > 0 ? layout.partitions()
        : defaultPartitions(spark.defaultParallelism(), batches.exampleCount(), todo.size());
    List<PartitionWork.ShippedBatch> shipped = left.stream().map(b -> PartitionWork.ShippedBatch.of(batches.batch(b))).toList();
    // A batch's cost is the token positions the model computes on.
    long[] cost = shipped.stream().mapToLong(b -> (long) b.rows().length * b.seqLen()).toArray();
    List<PartitionWork> work = new ArrayList<>();
    int from = 0;
    for (List<Integer> group : partition(left, cost, partitions)) {
      work.add(new PartitionWork(work.size(), shipped.subList(from, from + group.size())));
      from += group.size();
    }
    long examples = work.stream().mapToLong(PartitionWork::examples).sum();
    JobSpec spec = specs.forVariants(todo, layout.failFirstAttemptOf());
    String what = String.format(Locale.ROOT, "onnx-skip eval: %d variants on %,d examples in %d partitions", todo.size(), examples,
        work.size());
    spark.setJobDescription(what);
    spark.setCallSite(what);
    JavaRDD<PartitionWork> rdd = spark.parallelize(work, work.size()).setName("onnx-skip batches");
    BlockingQueue<PartitionWork.Result> finished = new LinkedBlockingQueue<>();
    Function1<scala.collection.Iterator<PartitionWork>, PartitionWork.Result> task =
        (Function1<scala.collection.Iterator<PartitionWork>, PartitionWork.Result> & Serializable) it -> ExecutorTask.run(spec, it.next());
    Function2<Object, PartitionWork.Result, BoxedUnit> handler = (index, result) -> {
      finished.add(result);
      return BoxedUnit.UNIT;
    };
    Function0<BoxedUnit> whenDone = () -> BoxedUnit.UNIT;
    List<Object> indices = new ArrayList<>();
    for (int p = 0; p < work.size(); p++) {
      indices.add(p);
    }
    SimpleFutureAction<BoxedUnit> job = spark.sc().submitJob(rdd.rdd(), task, CollectionConverters.asScala(indices).toSeq(), handler, whenDone);
    try {
      collect(job, finished, work.size(), examples, todo.size(), sink, progress);
    } finally {
      if (!job.isCompleted()) {
        job.cancel();
      }
      spark.clearCallSite();
    }
  }

  /** Hands each partition to the run as it finishes, one flush per partition, and says how far the job is. */
  private void collect(SimpleFutureAction<BoxedUnit> job, BlockingQueue<PartitionWork.Result> finished, int partitions, long examples,
      int variants, Sink sink, Progress progress) {
    long started = System.nanoTime();
    long examplesDone = 0;
    for (int done = 0; done < partitions; ) {
      PartitionWork.Result result;
      try {
        result = finished.poll(200, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new OnnxSkipException("interrupted while the Spark job ran");
      }
      if (result == null) {
        if (job.isCompleted() && finished.isEmpty()) {
          failure(job);
        }
        continue;
      }
      for (PartitionWork.Output out : result.outputs()) {
        sink.done(Shipped.restore(out.variant(), Variant.class), out.rows(), Shipped.restore(out.outputs(), ClassifierOutputs.class));
      }
      sink.flush();
      done++;
      examplesDone += result.examples();
      progress.examples(result.examples() * variants);
      double seconds = Math.max((System.nanoTime() - started) / 1e9, 1e-9);
      log.println(String.format(Locale.ROOT, "spark: partition %d done: %d of %d partitions, %,d of %,d examples (%,.1f examples/s,"
          + " %,.0f example-variants/s)", result.partition(), done, partitions, examplesDone, examples, examplesDone / seconds,
          examplesDone * (double) variants / seconds));
      log.flush();
      if (layout.driverStopsAfter() != Layout.NONE && done >= layout.driverStopsAfter()) {
        throw new OnnxSkipException("the driver stopped after " + done + " partitions on purpose (spark.onnxskip.test.driverStopsAfter)");
      }
    }
  }

  /** The job ended with partitions missing: its failure, as the one line of the task's own error where there is one. */
  private static void failure(SimpleFutureAction<BoxedUnit> job) {
    Try<BoxedUnit> outcome = job.value().get();
    if (outcome.isSuccess()) {
      throw new IllegalStateException("the Spark job finished without every partition's results");
    }
    Throwable cause = outcome.failed().get();
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof OnnxSkipException e) {
        throw new OnnxSkipException("on the executors: " + e.getMessage(), e);
      }
    }
    throw new OnnxSkipException("the Spark job failed: " + cause.getMessage(), cause);
  }

  @Override
  public void close() {
    spark.stop();
  }
}
