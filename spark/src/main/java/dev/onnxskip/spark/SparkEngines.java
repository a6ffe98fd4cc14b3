package dev.onnxskip.spark;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.UsageException;
import dev.onnxskip.data.BatchSource;
import dev.onnxskip.eval.EvalConfig;
import dev.onnxskip.eval.EvalEngine;
import dev.onnxskip.eval.EvalRun;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.OrtRuntime;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Serializable;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Makes eval's engine a {@link SparkEngine}: starts Spark when the run has work for it (not when
 * every variant came from the journal), makes sure the master runs a task before the run relies on
 * it, and has Spark send the executors a model that was given as a URI.
 */
final class SparkEngines implements EvalRun.EngineFactory {

  /** Spark configuration keys of the test hooks: a partition whose first attempt fails, a driver that stops early. */
  static final String FAIL_FIRST_ATTEMPT_OF = "spark.onnxskip.test.failFirstAttemptOf";
  static final String DRIVER_STOPS_AFTER = "spark.onnxskip.test.driverStopsAfter";

  private final SparkOptions options;
  private final List<String> forExecutors;
  private final PrintWriter log;
  // The master the run connected to, once it has: spark-submit's where --master is left out.
  private String master;

  /**
   * @param forExecutors URIs of files each executor fetches from their store before its tasks run
   *     (the model and its external data), where {@code ExecutorTask} looks for a model that is not
   *     at the driver's path
   */
  SparkEngines(SparkOptions options, List<String> forExecutors, PrintWriter log) {
    this.options = options;
    this.forExecutors = List.copyOf(forExecutors);
    this.log = log;
  }

  @Override
  public String name(EvalConfig cfg) {
    String where = master != null ? master : options.master().orElse("spark-submit's master");
    return "spark (" + cfg.execution().engine().cliName() + " on " + where + ")";
  }

  @Override
  public EvalEngine open(EvalConfig cfg, EvalRun.EngineInputs inputs, OrtRuntime runtime, BatchSource batches) {
    JavaSparkContext spark = connect();
    forExecutors.forEach(spark::addFile);
    SparkConf conf = spark.getConf();
    master = spark.master();
    // One task per core by default (spark.task.cpus), and ONNX Runtime's threads are per task.
    int threads = cfg.execution().threads() > 0 ? cfg.execution().threads() : conf.getInt("spark.task.cpus", 1);
    Serializable config = Shipped.of(cfg);
    Serializable device = Shipped.of(runtime.device());
    SparkEngine.JobSpecs specs = (todo, failFirst) -> new JobSpec(config, device, threads, inputs.modelSha256(), shipped(todo), failFirst);
    SparkEngine.Layout layout = new SparkEngine.Layout(options.partitions(), conf.getInt(FAIL_FIRST_ATTEMPT_OF, SparkEngine.Layout.NONE),
        conf.getInt(DRIVER_STOPS_AFTER, SparkEngine.Layout.NONE));
    return new SparkEngine(spark, batches, specs, layout, log);
  }

  /**
   * A standalone master's address answers within the timeout: Spark itself would try to register
   * with it for a minute before it gave up, inside the context's constructor.
   */
  private static void reachable(String master, int timeoutSeconds) {
    if (!master.startsWith("spark://")) {
      return;
    }
    List<String> problems = new ArrayList<>();
    // A master with standby masters lists them all: spark://host1:port1,host2:port2.
    for (String address : master.substring("spark://".length()).split(",")) {
      int colon = address.lastIndexOf(':');
      if (colon < 0) {
        throw new UsageException("Spark master " + master + ": '" + address + "' names no port (spark://HOST:PORT)");
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
            timeoutSeconds * 1000);
        return;
      } catch (NumberFormatException e) {
        throw new UsageException("Spark master " + master + ": '" + address + "' has no port number (spark://HOST:PORT)");
      } catch (IOException | IllegalArgumentException e) {
        problems.add(address + ": " + e.getMessage());
      }
    }
    throw new OnnxSkipException("Spark master " + master + " cannot be reached within " + timeoutSeconds + " s ("
        + String.join("; ", problems) + ")");
  }

  /** The context, started within the timeout: a master that never answers would keep the constructor waiting. */
  private static JavaSparkContext start(SparkConf conf, String master, int timeoutSeconds) {
    ExecutorService starter = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "onnx-skip spark start");
      t.setDaemon(true);
      return t;
    });
    Future<JavaSparkContext> started = starter.submit(() -> new JavaSparkContext(conf));
    starter.shutdown();
    try {
      return started.get(timeoutSeconds, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      started.cancel(true);
      throw new OnnxSkipException("Spark master " + master + " did not take the application within " + timeoutSeconds
          + " s; check the URL and that the cluster is up (--master-timeout SECONDS waits longer)");
    } catch (ExecutionException e) {
      throw new OnnxSkipException("cannot start Spark on master " + master + ": " + e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new OnnxSkipException("interrupted while starting Spark on master " + master);
    }
  }

  private static List<Serializable> shipped(List<Variant> todo) {
    return todo.stream().map(Shipped::of).toList();
  }

  /** A Spark context on the master, once it has run a first task; else one line saying why not. */
  private JavaSparkContext connect() {
    SparkConf conf = new SparkConf().setAppName("onnx-skip eval");
    options.master().ifPresent(conf::setMaster);
    if (!conf.contains("spark.master")) {
      throw new UsageException("no Spark master: give --master (local[2], spark://HOST:PORT, yarn, ...) or run through spark-submit");
    }
    String master = conf.get("spark.master");
    // The results come to the driver partition by partition and stay there for scoring anyway.
    conf.setIfMissing("spark.driver.maxResultSize", "0");
    int timeout = options.masterTimeoutSeconds();
    reachable(master, timeout);
    JavaSparkContext spark = start(conf, master, timeout);
    spark.setLogLevel("WARN");
    spark.setJobDescription("onnx-skip: is the master there?");
    JavaFutureAction<Long> probe = spark.parallelize(List.of(1), 1).countAsync();
    try {
      probe.get(timeout, TimeUnit.SECONDS);
      return spark;
    } catch (TimeoutException e) {
      probe.cancel(true);
      spark.stop();
      throw new OnnxSkipException("Spark master " + master + " ran no task within " + timeout + " s; check the URL and that the cluster"
          + " has free executors (--master-timeout SECONDS waits longer)");
    } catch (ExecutionException e) {
      spark.stop();
      throw new OnnxSkipException("Spark master " + master + " cannot run tasks: " + e.getCause().getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      spark.stop();
      throw new OnnxSkipException("interrupted while waiting for Spark master " + master);
    }
  }
}
