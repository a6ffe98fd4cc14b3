package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.testing.SyntheticBert;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rewrite --hf-dir}: the folder it writes, and the option combinations it refuses. */
class RewriteModelFolderCommandTest {

  @Test
  void writesTheFolderOfOneSpan(@TempDir Path tmp) throws Exception {
    Path model = tmp.resolve("model.onnx");
    ModelIO.save(SyntheticBert.build(SyntheticBert.Spec.tiny(3)), model);
    Path tokenizer = Files.createDirectories(tmp.resolve("tok"));
    Files.writeString(tokenizer.resolve("tokenizer.json"), "{}");
    Path out = tmp.resolve("folder");
    CliRun run = CliRun.of("rewrite", model.toString(), "--span", "0-1", "--hf-dir", out.toString(), "--tokenizer", tokenizer.toString(),
        "--labels", "x,y");
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().startsWith("wrote " + out + ": onnx/model.onnx (1 layers"), run.out());
    assertEquals(1, LayoutDetector.detect(ModelIO.load(out.resolve("onnx/model.onnx"))).layers());
    var config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
    assertEquals(1, config.get("num_hidden_layers").asInt());
    assertEquals("y", config.get("id2label").get("1").asText());

    CliRun again = CliRun.of("rewrite", model.toString(), "--span", "0-0", "--hf-dir", out.toString(), "--tokenizer", tokenizer.toString());
    assertEquals(2, again.exit());
    assertTrue(again.err().contains("use --force"), again.err());
    assertEquals(1, new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("num_hidden_layers").asInt(), "left as it was");
  }

  @Test
  void refusesWhatAFolderCannotHold(@TempDir Path tmp) throws Exception {
    Path model = tmp.resolve("model.onnx");
    ModelIO.save(SyntheticBert.build(SyntheticBert.Spec.tiny(2)), model);
    Path tokenizer = Files.createDirectories(tmp.resolve("tok"));
    Files.writeString(tokenizer.resolve("tokenizer.json"), "{}");
    String m = model.toString();
    String out = tmp.resolve("folder").toString();
    String tok = tokenizer.toString();
    List<String[]> cases = List.of(
        new String[] {"rewrite", m, "--spans", "0-0,1-1", "--hf-dir", out, "--tokenizer", tok},
        new String[] {"rewrite", m, "--span", "0-0", "--hf-dir", out},
        new String[] {"rewrite", m, "--span", "0-0", "--hf-dir", out, "--tokenizer", tmp.toString()},
        new String[] {"rewrite", m, "--baseline", "-o", out},
        new String[] {"rewrite", m, "--span", "0-0", "--hf-dir", out, "-o", out, "--tokenizer", tok},
        new String[] {"rewrite", m, "--span", "0-0", "--hf-dir", out, "--tokenizer", tok, "--external-data"},
        new String[] {"rewrite", m, "--span", "0-0", "--hf-dir", tmp.toString(), "--tokenizer", tok, "--force"},
        new String[] {"rewrite", m, "--span", "0-0"});
    List<String> messages = List.of("--hf-dir writes one model", "--hf-dir needs --tokenizer", "no tokenizer.json in that folder",
        "--baseline needs --hf-dir", "--hf-dir and -o both name the output", "--external-data, --static-shapes and --validate apply to -o",
        "holds the input model", "missing -o");
    for (int i = 0; i < cases.size(); i++) {
      CliRun run = CliRun.of(cases.get(i));
      assertEquals(2, run.exit(), String.join(" ", cases.get(i)) + ": " + run.err());
      assertTrue(run.oneLineError() && run.err().contains(messages.get(i)), run.err());
    }
    assertFalse(Files.exists(tmp.resolve("folder")));
  }
}
