package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.testing.ModelEdits;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Built;
import dev.onnxskip.testing.SyntheticBert.Naming;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A graph where neither attention nor names give the blocks away (softmax written out as
 * Exp/ReduceSum/Div, every name a number): the tool says what it found and how to go on, and
 * with the boundaries named by hand, inspects and rewrites it.
 */
class ManualBoundariesCommandTest {

  @Test
  void anUnrecognisableEncoderIsRewrittenFromHandNamedBoundaries(@TempDir Path tmp) throws Exception {
    Built built = ModelEdits.softmaxWrittenOut(SyntheticBert.buildWithTruth(Spec.tiny(3).withNaming(Naming.ANONYMOUS)), i -> true);
    Path model = tmp.resolve("anonymous.onnx");
    Files.write(model, built.model().toByteArray());

    CliRun refused = CliRun.of("inspect", model.toString());
    assertEquals(1, refused.exit());
    assertTrue(refused.oneLineError(), refused.err());
    assertTrue(refused.err().startsWith("onnx-skip: " + model + ": cannot find the encoder blocks: found no attention"),
        refused.err());
    assertTrue(refused.err().strip().endsWith("name the boundaries of the residual stream with --boundaries T0,T1,..."),
        refused.err());

    String boundaries = String.join(",", built.boundaries());
    CliRun inspected = CliRun.of("inspect", "--json", model.toString(), "--boundaries", boundaries);
    assertEquals(0, inspected.exit(), inspected.err());
    JsonNode j = new ObjectMapper().readTree(inspected.out());
    assertEquals(3, j.get("layers").asInt());
    assertEquals("manual", j.get("strategy").asText());

    Path dir = tmp.resolve("variants");
    CliRun rewritten = CliRun.of("rewrite", model.toString(), "--all-spans", "--boundaries", boundaries, "-o", dir.toString());
    assertEquals(0, rewritten.exit(), rewritten.err());
    JsonNode manifest = new ObjectMapper().readTree(dir.resolve("manifest.json").toFile());
    assertEquals(6, manifest.get("variants").size());
    assertEquals(built.boundaries().size(), manifest.get("boundaries").size());
  }
}
