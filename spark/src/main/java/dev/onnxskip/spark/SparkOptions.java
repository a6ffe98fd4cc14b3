package dev.onnxskip.spark;

import java.util.Optional;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Where on Spark eval runs and how the work is cut: the options SparkEval adds to eval's. */
public final class SparkOptions {
  @Spec(Spec.Target.MIXEE) private CommandSpec command;

  @Option(names = "--master", paramLabel = "URL",
      description = "Spark master: local[N], spark://HOST:PORT, yarn, k8s://... (default: spark-submit's --master).")
  private String master;

  private int partitions;

  private int masterTimeout = 120;

  @Option(names = "--partitions", paramLabel = "N",
      description = "Tasks to cut the examples into, whole batches each, in order (default: two per core, more for large runs).")
  void partitions(int value) {
    if (value < 1) {
      throw new ParameterException(command.commandLine(), "--partitions must be at least 1, got " + value);
    }
    partitions = value;
  }

  @Option(names = "--master-timeout", paramLabel = "SECONDS",
      description = "How long to wait for the master to run a first task before giving up (default: 120).")
  void masterTimeout(int value) {
    if (value < 1) {
      throw new ParameterException(command.commandLine(), "--master-timeout must be at least 1 second, got " + value);
    }
    masterTimeout = value;
  }

  /** The master given here; empty to take spark-submit's. */
  Optional<String> master() {
    return Optional.ofNullable(master);
  }

  /** The partitions asked for; 0 for the default. */
  int partitions() {
    return partitions;
  }

  int masterTimeoutSeconds() {
    return masterTimeout;
  }
}
