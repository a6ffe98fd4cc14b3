package dev.onnxskip.cli;

import java.io.PrintWriter;

/** Warnings: news the user should get as it happens, on stderr, whatever --quiet says of progress. */
final class Warnings {
  private Warnings() {}

  static void print(PrintWriter err, String message) {
    err.println("onnx-skip: warning: " + message);
    err.flush();
  }
}
