package dev.onnxskip.cli;

import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** How a command finds the encoder: shared by inspect, rewrite and eval. */
public final class LayoutOptions {
  @Option(
      names = "--boundaries",
      split = ",",
      paramLabel = "T0,T1,...",
      description = "Name the residual-stream tensors by hand: layer 0's input, ..., the last layer's output.")
  List<String> boundaries = List.of();
}
