package dev.onnxskip.spark;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.data.Batch;
import dev.onnxskip.data.BatchSource;
import dev.onnxskip.eval.EvalConfig;
import dev.onnxskip.eval.EvalEngine;
import dev.onnxskip.eval.EvalRun;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.Device;
import dev.onnxskip.runtime.OrtRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;

/**
 * The executor's side of a run: one task evaluates every variant on its batches with the engine
 * {@code eval} itself uses. An executor opens that engine (and so loads the model) once and keeps
 * it for every later task of the run, closing it when the JVM exits; tasks running at the same
 * time share it, each on batches of its own.
 */
final class ExecutorTask {

  private ExecutorTask() {}

  /** An engine kept by an executor, and the batch source through which each task gives it its own batches. */
  private record Kept(EvalEngine engine, TaskBatches batches) {}

  private static final Map<String, Kept> ENGINES = new ConcurrentHashMap<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(ExecutorTask::closeAll, "onnx-skip engines"));
  }

  static PartitionWork.Result run(JobSpec spec, PartitionWork work) {
    TaskContext task = TaskContext.get();
    return BigStack.call("onnx-skip partition " + work.partition(), () -> evaluate(spec, work, task));
  }

  private static PartitionWork.Result evaluate(JobSpec spec, PartitionWork work, TaskContext task) {
    if (spec.failFirstAttemptOf() == work.partition() && task != null && task.attemptNumber() == 0) {
      throw new IllegalStateException("partition " + work.partition() + " fails its first attempt on purpose"
          + " (spark.onnxskip.test.failFirstAttemptOf)");
    }
    Kept kept = ENGINES.computeIfAbsent(spec.engineKey(), key -> open(spec));
    List<Variant> variants = spec.variants().stream().map(v -> Shipped.restore(v, Variant.class)).toList();
    List<Batch> batches = work.batches().stream().map(PartitionWork.ShippedBatch::batch).toList();
    List<PartitionWork.Output> outputs = new ArrayList<>();
    kept.batches().whileRunning(batches, () -> kept.engine().run(variants, Set.of(),
        (variant, rows, out) -> outputs.add(new PartitionWork.Output(Shipped.of(variant), rows, Shipped.of(out))), examples -> {}));
    return new PartitionWork.Result(work.partition(), work.examples(), outputs);
  }

  private static Kept open(JobSpec spec) {
    EvalConfig cfg = locally(Shipped.restore(spec.config(), EvalConfig.class));
    OrtRuntime runtime = OrtRuntime.open(Shipped.restore(spec.device(), Device.class), spec.threads());
    EvalRun.EngineInputs inputs = EvalRun.engineInputs(cfg, spec.modelSha256());
    TaskBatches batches = new TaskBatches();
    return new Kept(EvalRun.BUILT_IN.open(cfg, inputs, runtime, batches), batches);
  }

  /**
   * The run's settings with the model where this executor finds it: at the driver's path (shared
   * storage, or the same local path on every node), else as a file Spark fetched for it: shipped
   * with {@code --files}, or added by the driver for a model given as a URI. Where neither exists,
   * the path stays as it is and loading it fails as {@code eval} would.
   */
  private static EvalConfig locally(EvalConfig cfg) {
    Path model = cfg.inputs().model();
    if (Files.isRegularFile(model) || SparkEnv.get() == null) {
      return cfg;
    }
    Path shipped = Path.of(SparkFiles.get(model.getFileName().toString()));
    if (!Files.isRegularFile(shipped)) {
      return cfg;
    }
    return new EvalConfig(new EvalConfig.Inputs(shipped, cfg.inputs().tokenizer(), cfg.inputs().data(), cfg.inputs().columns(),
        cfg.inputs().shownAs()),
        cfg.reading(), cfg.spans(), cfg.batching(), cfg.execution(), cfg.statistics());
  }

  private static void closeAll() {
    for (Kept kept : ENGINES.values()) {
      if (kept.engine() instanceof AutoCloseable closeable) {
        try {
          closeable.close();
        } catch (Exception e) {
          // The JVM is exiting; the native memory goes with it.
        }
      }
    }
  }

  /**
   * The batches of the task running on the calling thread: one engine serves tasks that run at the
   * same time, and each of its runs reads the batches of the task that started it.
   */
  static final class TaskBatches implements BatchSource {
    private final ThreadLocal<List<Batch>> current = new ThreadLocal<>();

    void whileRunning(List<Batch> batches, Runnable run) {
      current.set(batches);
      try {
        run.run();
      } finally {
        current.remove();
      }
    }

    private List<Batch> batches() {
      List<Batch> batches = current.get();
      if (batches == null) {
        throw new OnnxSkipException("an engine read batches outside a task");
      }
      return batches;
    }

    @Override
    public int batchCount() {
      return batches().size();
    }

    @Override
    public Batch batch(int i) {
      return batches().get(i);
    }

    @Override
    public int exampleCount() {
      return batches().stream().mapToInt(Batch::batchSize).sum();
    }
  }
}
