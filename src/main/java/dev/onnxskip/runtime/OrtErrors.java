package dev.onnxskip.runtime;

import java.util.stream.Collectors;

/** ONNX Runtime's error messages, made fit for the tool's one-line errors. */
public final class OrtErrors {

  private OrtErrors() {}

  /**
   * The whole message on one line: ONNX Runtime often puts what matters after the first line (the
   * index, the size it got and the size it expected), so its lines are joined, never dropped.
   */
  public static String oneLine(String message) {
    if (message == null) {
      return "";
    }
    return message.lines().map(String::strip).filter(l -> !l.isEmpty()).collect(Collectors.joining(" "));
  }
}
