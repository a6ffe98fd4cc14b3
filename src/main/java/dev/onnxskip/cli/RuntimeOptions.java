package dev.onnxskip.cli;

import dev.onnxskip.UsageException;
import dev.onnxskip.runtime.Device;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Where and how models run: shared by eval and probe. The accessors check the values, so a
 * command that reads them before loading a model refuses a bad one before any work.
 */
public final class RuntimeOptions {
  @Option(names = "--device", defaultValue = "cpu", paramLabel = "cpu|cuda[:N]|auto",
      description = "Run on the CPU, on CUDA (needs the -Pgpu build), or auto: CUDA when it loads (default: ${DEFAULT-VALUE}).")
  private String device;

  @Option(names = "--threads", paramLabel = "N", description = "Intra-op threads (default: ONNX Runtime chooses).")
  private Integer threads;

  @Option(names = "--batch-size", defaultValue = "32", description = "Examples per batch (default: ${DEFAULT-VALUE}).")
  private int batchSize;

  @Spec(Spec.Target.MIXEE) private CommandSpec command;

  /** Intra-op threads for the runtime: 0 when left out, meaning the runtime's own choice. */
  int threads() {
    if (threads == null) {
      return 0;
    }
    if (threads < 1) {
      throw new UsageException("--threads must be at least 1 (leave it out for the runtime's default), got " + threads);
    }
    int processors = Runtime.getRuntime().availableProcessors();
    if (threads > processors) {
      // More threads than cores make ONNX Runtime's workers wait on each other: many times slower.
      Warnings.print(command.commandLine().getErr(), "--threads " + threads + " is more than the " + processors
          + " processors available; ONNX Runtime will run slower, not faster (leave --threads out for its default)");
    }
    return threads;
  }

  int batchSize() {
    if (batchSize <= 0) {
      throw new UsageException("--batch-size must be positive, got " + batchSize);
    }
    return batchSize;
  }

  Device parsedDevice() {
    return Device.parse(device);
  }
}
