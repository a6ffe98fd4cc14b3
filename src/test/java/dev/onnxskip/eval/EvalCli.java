package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxskip.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;

/** The command line run in-process, for tests of the eval package that drive it end to end. */
record EvalCli(int exit, String out, String err) {

  static EvalCli of(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new EvalCli(exit, out.toString(), err.toString());
  }

  /** Runs the command line, failing the test unless it succeeds; returns what it printed. */
  static String ok(String... args) {
    EvalCli run = of(args);
    assertEquals(0, run.exit(), String.join(" ", args) + ": " + run.err());
    return run.out();
  }
}
