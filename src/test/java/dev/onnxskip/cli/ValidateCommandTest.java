package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.graph.Digests;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.LayerNorm;
import dev.onnxskip.testing.SyntheticBert.Naming;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Every variant rewrite emits passes the reference ONNX checker; the validate command reports on one line. */
class ValidateCommandTest {

  private static final String VALID = "valid ONNX (ONNX 1.17.0 checker, full check; strict shape inference with data propagation)";

  @ParameterizedTest
  @ValueSource(strings = {"models/minilm-l6/model.onnx", "models/minilm-l6-q/model.onnx"})
  void everyVariantOfTheRealModelsIsValid(String model, @TempDir Path tmp) {
    Path dir = tmp.resolve("variants");
    CliRun run = CliRun.of("rewrite", model, "--all-spans", "--validate", "-o", dir.toString());
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().contains("all 21 variants are " + VALID), run.out());
    assertFalse(run.out().contains("note:"), "MiniLM uses ONNX domains only: " + run.out());
    assertTrue(Files.exists(dir.resolve("manifest.json")));
  }

  static Stream<Arguments> syntheticGraphs() {
    Spec base = Spec.tiny(3);
    return Stream.of(
        Arguments.of("named", base.withLayerNorm(LayerNorm.OP).withNaming(Naming.BERT).withHead(Head.CLS_CLASSIFIER, 3), false),
        Arguments.of("anonymous", base.withNaming(Naming.ANONYMOUS), false),
        Arguments.of("decomposed-layernorm", base.withLayerNorm(LayerNorm.DECOMPOSED).withNaming(Naming.DISTILBERT), false),
        Arguments.of("fused", base, true));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("syntheticGraphs")
  void everyVariantOfTheSyntheticGraphsIsValid(String name, Spec spec, boolean fused, @TempDir Path tmp) {
    Path model = tmp.resolve(name + ".onnx");
    ModelIO.save(fused ? SyntheticBert.fused(spec) : SyntheticBert.build(spec), model);
    Path dir = tmp.resolve("variants");
    CliRun run = CliRun.of("rewrite", model.toString(), "--all-spans", "--validate", "-o", dir.toString());
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().contains("all 6 variants are " + VALID), run.out());
    String note = "note: com.microsoft.Attention, com.microsoft.BiasGelu, com.microsoft.EmbedLayerNormalization,"
        + " com.microsoft.SkipLayerNormalization have no ONNX schema; the checker verified their structure only";
    assertEquals(fused, run.out().contains(note), run.out());

    CliRun again = CliRun.of("validate", dir.toString());
    assertEquals(0, again.exit(), again.err());
    List<String> lines = again.out().lines().toList();
    assertEquals(6, lines.size(), again.out());
    for (String line : lines) {
      assertTrue(line.matches(".*skip-\\d-\\d\\.onnx: " + java.util.regex.Pattern.quote(VALID) + (fused ? "; \\d+ of \\d+ nodes are outside the ONNX domains.*" : "")), line);
    }
  }

  @Test
  void aVariantThatFailsIsRemovedAndTheRunStops(@TempDir Path tmp) {
    // A source whose declared output width (17) is not what its graph computes (16): the runtime
    // accepts it, the checker does not, and so does not any variant.
    ModelProto.Builder bad = SyntheticBert.build(Spec.tiny(2).withLayerNorm(LayerNorm.OP)).toBuilder();
    bad.getGraphBuilder().getOutputBuilder(0).getTypeBuilder().getTensorTypeBuilder().getShapeBuilder()
        .setDim(2, TensorShapeProto.Dimension.newBuilder().setDimValue(17));
    Path model = tmp.resolve("bad.onnx");
    ModelIO.save(bad.build(), model);
    Path dir = tmp.resolve("variants");
    CliRun run = CliRun.of("rewrite", model.toString(), "--all-spans", "--validate", "-o", dir.toString());
    assertEquals(1, run.exit());
    assertTrue(run.oneLineError(), run.err());
    assertTrue(run.err().startsWith("onnx-skip: " + dir.resolve("skip-0-0.onnx") + ": not valid ONNX: shape inference"
        + " error at node '/encoder/layer.1/output/LayerNorm/LayerNormalization'"), run.err());
    assertTrue(run.err().strip().endsWith("(the variant was removed; rewrite without --validate to keep it)"), run.err());
    assertFalse(Files.exists(dir.resolve("skip-0-0.onnx")));
    assertFalse(Files.exists(dir.resolve("manifest.json")));

    CliRun direct = CliRun.of("validate", model.toString());
    assertEquals(1, direct.exit());
    assertTrue(direct.oneLineError(), direct.err());
    assertTrue(direct.err().contains("differ in dimension 2: (16) vs (17)"), direct.err());
  }

  @Test
  void validateNamesWhatItCannotRead(@TempDir Path tmp) throws Exception {
    CliRun noManifest = CliRun.of("validate", tmp.toString());
    assertEquals(1, noManifest.exit());
    assertTrue(noManifest.oneLineError(), noManifest.err());
    assertTrue(noManifest.err().contains(tmp + ": is a folder without a manifest.json"), noManifest.err());

    Files.writeString(tmp.resolve("manifest.json"), "{\"variants\": [{\"span\": [0, 0]}]}");
    CliRun noFile = CliRun.of("validate", tmp.toString());
    assertEquals(1, noFile.exit());
    assertTrue(noFile.err().contains("has no file"), noFile.err());

    CliRun missing = CliRun.of("validate", tmp.resolve("nope.onnx").toString());
    assertEquals(1, missing.exit());
    assertTrue(missing.err().contains(tmp.resolve("nope.onnx") + ": no such file"), missing.err());

    CliRun usage = CliRun.of("validate");
    assertEquals(2, usage.exit());
  }

  /** Every file is checked, even after one fails; each failure has its line, and the exit code says one failed. */
  @Test
  void everyFileIsCheckedAndEachFailureReported(@TempDir Path tmp) throws Exception {
    Path variants = tmp.resolve("variants");
    assertEquals(0, CliRun.of("rewrite", "models/minilm-l6/model.onnx", "--spans", "0-0,5-5", "-o", variants.toString()).exit());
    Path broken = Files.writeString(tmp.resolve("broken.onnx"), "not a model\n");
    Path missing = tmp.resolve("missing.onnx");
    CliRun run = CliRun.of("validate", variants.resolve("skip-0-0.onnx").toString(), broken.toString(), missing.toString(),
        variants.resolve("skip-5-5.onnx").toString());
    assertEquals(1, run.exit(), run.err());
    List<String> valid = run.out().strip().lines().toList();
    assertEquals(2, valid.size(), run.out());
    assertTrue(valid.get(0).startsWith(variants.resolve("skip-0-0.onnx") + ": " + VALID), valid.get(0));
    assertTrue(valid.get(1).startsWith(variants.resolve("skip-5-5.onnx") + ": " + VALID), valid.get(1));
    List<String> errors = run.err().strip().lines().toList();
    assertEquals(3, errors.size(), run.err());
    assertTrue(errors.get(0).startsWith("onnx-skip: " + broken), errors.get(0));
    assertTrue(errors.get(1).startsWith("onnx-skip: " + missing + ": no such file"), errors.get(1));
    assertEquals("onnx-skip: 2 of 4 failed validation", errors.get(2));
    assertFalse(run.err().contains("\tat "), "no stack trace without --verbose");

    CliRun allGood = CliRun.of("validate", variants.toString());
    assertEquals(0, allGood.exit(), allGood.err());
    assertEquals("", allGood.err());
  }

  @Test
  void aStaticVariantRecordsItsProvenanceAndInspectShowsIt(@TempDir Path tmp) throws Exception {
    String model = "models/minilm-l6/model.onnx";
    Path variant = tmp.resolve("skip-1-2.onnx");
    CliRun run = CliRun.of("rewrite", model, "--span", "1-2", "--static-shapes", "batch=1,sequence=16", "--validate",
        "-o", variant.toString());
    assertEquals(0, run.exit(), run.err());

    JsonNode j = new ObjectMapper().readTree(CliRun.of("inspect", "--json", variant.toString()).out());
    JsonNode v = j.get("variant");
    assertEquals(List.of(1, 2), List.of(v.get("span").get(0).asInt(), v.get("span").get(1).asInt()));
    assertEquals(Digests.sha256(Path.of(model)), v.get("source_sha256").asText());
    assertEquals(6, v.get("source_layers").asInt());
    assertEquals(dev.onnxskip.ToolVersion.get(), v.get("tool_version").asText());
    assertEquals(4, j.get("layers").asInt(), "two of six layers are left out");
    assertEquals("int64 [1, 16]", j.get("inputs").get(0).get("type").asText());
    assertEquals("float [1, 16, 384]", j.get("outputs").get(0).get("type").asText());

    CliRun text = CliRun.of("inspect", variant.toString());
    assertTrue(text.out().contains("variant    skips layers 1-2 of a 6-layer model (source sha256 " + Digests.sha256(Path.of(model))),
        text.out());

    CliRun badDims = CliRun.of("rewrite", model, "--span", "1-2", "--static-shapes", "batch=1,width=3", "-o",
        tmp.resolve("x.onnx").toString());
    assertEquals(2, badDims.exit());
    assertTrue(badDims.oneLineError() && badDims.err().contains("unknown dimension 'width'"), badDims.err());
  }
}
