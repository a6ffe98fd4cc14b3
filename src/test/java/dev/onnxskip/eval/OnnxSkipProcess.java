package dev.onnxskip.eval;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code onnx-skip} in a JVM of its own, on the test class path: for what an in-process run cannot
 * show, such as a kill, a lock held by another process, or what native code writes to stderr.
 */
public final class OnnxSkipProcess {

  private OnnxSkipProcess() {}

  /** Starts the command line with {@code args}; stdout and stderr both go to {@code log}. */
  public static Process start(List<String> args, Path log) throws IOException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), "dev.onnxskip.cli.Main"));
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().put("OPT_OUT_TRACKING", "true");
    return builder.start();
  }
}
