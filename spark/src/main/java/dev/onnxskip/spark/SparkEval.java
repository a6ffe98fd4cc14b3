package dev.onnxskip.spark;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.cli.EvalCommand;
import dev.onnxskip.cli.Main;
import dev.onnxskip.eval.EvalRun;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.deploy.SparkHadoopUtil;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

/**
 * {@code onnx-skip eval} on Apache Spark: the same options, checks, outputs and errors, with the
 * variants evaluated by Spark tasks over partitions of the examples, plus {@code --master},
 * {@code --partitions} and {@code --master-timeout}. {@code --model}, {@code --tokenizer} and
 * {@code --data} may also be Hadoop URIs ({@link StagedInputs}).
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
    return run(args, out, err, UnaryOperator.identity());
  }

  /**
   * The same, with the run's engines made by what {@code engines} makes of Spark's: how tests step
   * in between the driver and the executors.
   */
  static int run(String[] args, PrintWriter out, PrintWriter err, UnaryOperator<EvalRun.EngineFactory> engines) {
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
      CommandLine.IExecutionStrategy evalAsUsual = cli.getExecutionStrategy();
      cli.setExecutionStrategy(parsed -> {
        spark.check(eval);
        CommandLine.ParseResult evalParsed = parsed.subcommand();
        try (StagedInputs staged = stage(eval, evalParsed, err)) {
          staged.local().forEach((option, copy) -> evalParsed.matchedOption(option).setValue(copy));
          EvalCommand command = (EvalCommand) eval.getCommand();
          command.showInputsAs(staged.shownAs());
          command.runEnginesWith(engines.apply(new SparkEngines(spark, staged.forExecutors(), err)));
          return evalAsUsual.execute(parsed);
        }
      });
    });
  }

  /**
   * The inputs given as URIs, copied onto the driver. Hadoop's configuration is the one the Spark
   * context will have ({@code spark.hadoop.*} settings, core-site.xml), made without starting Spark:
   * a run whose every variant is in the journal starts none.
   */
  private static StagedInputs stage(CommandLine eval, CommandLine.ParseResult parsed, PrintWriter log) {
    OptionSpec out = parsed.matchedOption("--out");
    if (out != null && StagedInputs.isUri(last(out.originalStringValues()))) {
      throw new ParameterException(eval, "--out must be a local folder, got " + last(out.originalStringValues())
          + "; copy the results to Hadoop storage afterwards");
    }
    Map<String, String> uris = new LinkedHashMap<>();
    for (String option : StagedInputs.OPTIONS) {
      OptionSpec given = parsed.matchedOption(option);
      // picocli's Path has already folded the text's "//": the text as given is the URI.
      if (given != null && StagedInputs.isUri(last(given.originalStringValues()))) {
        uris.put(option, last(given.originalStringValues()));
      }
    }
    if (uris.isEmpty()) {
      return StagedInputs.NONE;
    }
    SparkConf conf = new SparkConf();
    Configuration hadoop = SparkHadoopUtil.get().newConfiguration(conf);
    // Spark's scratch space on the driver, as for its own files.
    Path parent = Path.of(conf.get("spark.local.dir", System.getProperty("java.io.tmpdir")).split(",")[0].strip());
    Optional<PrintWriter> progress = parsed.hasMatchedOption("--quiet") ? Optional.empty() : Optional.of(log);
    try {
      return StagedInputs.copy(uris, hadoop, parent, progress);
    } catch (OnnxSkipException e) {
      // How picocli hands a command's failure to the tool's one-line error handler.
      throw new CommandLine.ExecutionException(eval, e.getMessage(), e);
    }
  }

  private static String last(List<String> values) {
    return values.get(values.size() - 1);
  }
}
