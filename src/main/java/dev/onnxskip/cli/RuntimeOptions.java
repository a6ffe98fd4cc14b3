package dev.onnxskip.cli;

import dev.onnxskip.eval.Device;
import picocli.CommandLine.Option;

/** Where and how models run: shared by eval and probe. */
public final class RuntimeOptions {
  @Option(names = "--device", defaultValue = "cpu", paramLabel = "cpu|cuda[:N]|auto",
      description = "Run on the CPU, on CUDA (needs the -Pgpu build), or auto: CUDA when it loads (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--threads", defaultValue = "0", description = "Intra-op threads; 0 lets ONNX Runtime choose (default).")
  int threads;

  @Option(names = "--batch-size", defaultValue = "32", description = "Examples per batch (default: ${DEFAULT-VALUE}).")
  int batchSize;

  Device parsedDevice() {
    return Device.parse(device);
  }
}
