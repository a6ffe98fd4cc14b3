package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every command's help formats cleanly: picocli reads descriptions as format strings, and a lone
 * {@code %} makes it print a warning on the JVM's stderr (not the command's) and the text raw.
 */
class HelpTextTest {

  @ParameterizedTest
  @ValueSource(strings = {"inspect", "rewrite", "validate", "eval", "probe", "compare", "select"})
  void helpFormatsWithoutWarnings(String command) {
    PrintStream stderr = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    CliRun run;
    try {
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      run = CliRun.of(command, "--help");
    } finally {
      System.setErr(stderr);
    }
    assertEquals(0, run.exit(), run.err());
    String warnings = captured.toString(StandardCharsets.UTF_8);
    assertFalse(warnings.contains("WARN"), warnings);
    assertFalse(run.out().contains("%n"), run.out());
    assertTrue(run.out().contains("Usage: onnx-skip " + command), run.out());
  }
}
