package dev.onnxskip.spark;

import dev.onnxskip.cli.EvalCommand;
import dev.onnxskip.cli.Main;
import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * {@code onnx-skip eval} on Apache Spark: the same options, checks, outputs and errors, with the
 * variants evaluated by Spark tasks over partitions of the examples, plus {@code --master},
 * {@code --partitions} and {@code --master-timeout}.
 *
 * <pre>spark-submit --class dev.onnxskip.spark.SparkEval --master yarn onnx-skip-spark.jar --model ... --out ...</pre>
 */
public final class SparkEval {

  private SparkEval() {}

  public static void main(String[] args) {
    int code = BigStack.call("onnx-skip", () -> run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    System.exit(code);
  }

  /** Runs as the command line would, returning the exit code; used by tests. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    // Spark's own INFO lines bury eval's; spark-submit has configured logging before this runs.
    if (System.getProperty("log4j2.configurationFile") == null && System.getProperty("log4j.configurationFile") == null) {
      System.setProperty("log4j2.configurationFile", "classpath:dev/onnxskip/spark/log4j2.properties");
    }
    String[] evalArgs = new String[args.length + 1];
    evalArgs[0] = "eval";
    System.arraycopy(args, 0, evalArgs, 1, args.length);
    SparkOptions spark = new SparkOptions();
    return Main.run(evalArgs, out, err, cli -> {
      CommandLine eval = cli.getSubcommands().get("eval");
      eval.addMixin("spark", spark);
      ((EvalCommand) eval.getCommand()).runEnginesWith(new SparkEngines(spark, err));
      CommandLine.IExecutionStrategy evalAsUsual = cli.getExecutionStrategy();
      cli.setExecutionStrategy(parsed -> {
        spark.check(eval);
        return evalAsUsual.execute(parsed);
      });
    });
  }
}
