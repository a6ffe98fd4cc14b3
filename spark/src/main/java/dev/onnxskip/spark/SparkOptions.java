package dev.onnxskip.spark;

import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * Where on Spark eval runs and how the work is cut: the options SparkEval adds to eval's. {@link
 * #check} refuses bad values as usage errors once they are parsed, before any input is read.
 */
public final class SparkOptions {
  @Option(names = "--master", paramLabel = "URL",
      description = "Spark master: local[N], spark://HOST:PORT, yarn, k8s://... (default: spark-submit's --master).")
  private String master;

  @Option(names = "--partitions", paramLabel = "N",
      description = "Tasks to cut the examples into, whole batches each, in order (default: two per core, more for large runs).")
  private Integer partitions;

  @Option(names = "--master-timeout", paramLabel = "SECONDS", defaultValue = "120",
      description = "How long to wait for the master to be reached and run a first task (default: ${DEFAULT-VALUE}).")
  private int masterTimeout;

  /** Refuses values out of range, as a usage error of {@code command}. */
  void check(CommandLine command) {
    if (partitions != null && partitions < 1) {
      throw new ParameterException(command, "--partitions must be at least 1, got " + partitions);
    }
    if (masterTimeout < 1) {
      throw new ParameterException(command, "--master-timeout must be at least 1 second, got " + masterTimeout);
    }
  }

  /** The master given here; empty to take spark-submit's. */
  Optional<String> master() {
    return Optional.ofNullable(master);
  }

  /** The partitions asked for; 0 for the default. */
  int partitions() {
    return partitions == null ? 0 : partitions;
  }

  int masterTimeoutSeconds() {
    return masterTimeout;
  }
}
