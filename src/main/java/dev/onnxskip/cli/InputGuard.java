package dev.onnxskip.cli;

import dev.onnxskip.UsageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/** Refuses, before any work, an output that would overwrite a command's input model or its external data. */
final class InputGuard {
  private InputGuard() {}

  /**
   * @param model the input model's path
   * @param externalData the files its weights are read from
   * @param target a file the command would write
   * @param shown how to name the target in the message
   */
  static void refuseOverwriting(Path model, Set<Path> externalData, Path target, String shown) {
    if (isSameFile(model, target)) {
      throw new UsageException("output " + shown + " is the input model; refusing to overwrite it");
    }
    if (externalData.stream().anyMatch(data -> isSameFile(data, target))) {
      throw new UsageException("output " + shown + " is the external data of the input model; refusing to overwrite it");
    }
  }

  /** The same file under any spelling, symbolic links included. */
  private static boolean isSameFile(Path a, Path b) {
    if (a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize())) {
      return true;
    }
    try {
      return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
    } catch (IOException e) {
      return false;
    }
  }
}
