package dev.onnxskip.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** The result of running the command line in-process: exit code and what it printed. */
record CliRun(int exit, String out, String err) {

  static CliRun of(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new CliRun(code, out.toString(), err.toString());
  }

  /** The error output is one line, as the tool promises for every bad input. */
  boolean oneLineError() {
    return err.strip().lines().count() == 1 && !err.contains("\tat ");
  }
}
