package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.graph.Digests;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.rewrite.Provenance;
import dev.onnxskip.rewrite.SkipSpan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RewriteCommandTest {
  static final String MODEL = "models/minilm-l6/model.onnx";

  @Test
  void allSpansWritesEveryVariantAndAManifest(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("variants");
    CliRun run = CliRun.of("rewrite", MODEL, "--all-spans", "-o", dir.toString());
    assertEquals(0, run.exit(), run.err());
    JsonNode manifest = new ObjectMapper().readTree(dir.resolve("manifest.json").toFile());
    assertEquals(21, manifest.get("variants").size());
    assertEquals(Digests.sha256(Path.of(MODEL)), manifest.get("source_sha256").asText());
    long fullSize = Files.size(Path.of(MODEL));
    for (JsonNode v : manifest.get("variants")) {
      Path file = dir.resolve(v.get("file").asText());
      assertEquals(Digests.sha256(file), v.get("sha256").asText());
      assertEquals(Files.size(file), v.get("bytes").asLong());
      int skipped = v.get("span").get(1).asInt() - v.get("span").get(0).asInt() + 1;
      // Each MiniLM layer holds 1,774,464 float weights; the rest of the file barely changes.
      double expected = fullSize - skipped * 1_774_464L * 4;
      assertEquals(expected, Files.size(file), fullSize * 0.002, "size of " + file);
      OnnxModel variant = ModelIO.load(file);
      SkipSpan span = Provenance.read(variant).orElseThrow().span();
      assertEquals(v.get("span").get(0).asInt(), span.start());
    }
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(22, files.count(), "21 variants and the manifest, no temp files");
    }
  }

  @Test
  void externalDataSharesOneWeightsFile(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("ext");
    CliRun run = CliRun.of("rewrite", MODEL, "--spans", "0-0,2-4,5-5", "--external-data", "-o", dir.toString());
    assertEquals(0, run.exit(), run.err());
    long weights = Files.size(dir.resolve("model.weights"));
    assertTrue(weights > 80_000_000 && weights < 95_000_000, "one model's worth of weights: " + weights);
    for (String f : new String[] {"skip-0-0.onnx", "skip-2-4.onnx", "skip-5-5.onnx"}) {
      assertTrue(Files.size(dir.resolve(f)) < 1_000_000, f + " holds structure only");
      ModelIO.load(dir.resolve(f));
    }
  }

  @Test
  void singleSpanAndRefusals(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("v.onnx");
    assertEquals(0, CliRun.of("rewrite", MODEL, "--span", "2-3", "-o", out.toString()).exit());
    assertEquals(new SkipSpan(2, 3), Provenance.read(ModelIO.load(out)).orElseThrow().span());

    CliRun exists = CliRun.of("rewrite", MODEL, "--span", "1-1", "-o", out.toString());
    assertEquals(2, exists.exit());
    assertTrue(exists.err().contains("exists; use --force"), exists.err());
    assertEquals(new SkipSpan(2, 3), Provenance.read(ModelIO.load(out)).orElseThrow().span(), "refused output is untouched");
    assertEquals(0, CliRun.of("rewrite", MODEL, "--span", "1-1", "-o", out.toString(), "--force").exit());

    CliRun self = CliRun.of("rewrite", MODEL, "--span", "1-1", "-o", MODEL, "--force");
    assertEquals(2, self.exit());
    assertTrue(self.err().contains("is the input model"), self.err());
  }

  @Test
  void malformedSpansAreUsageErrors(@TempDir Path tmp) {
    String[][] cases = {
      {"6-6", "out of range"}, {"3-1", "inverted span"}, {"a-b", "malformed span"},
      {"1-", "malformed span"}, {"-1", "malformed span"}, {"1-1,1-1", "listed twice"},
    };
    for (String[] c : cases) {
      Path dir = tmp.resolve("out" + c[0].hashCode());
      CliRun run = CliRun.of("rewrite", MODEL, "--spans", c[0], "-o", dir.toString());
      assertEquals(2, run.exit(), c[0] + ": " + run.err());
      assertTrue(run.err().contains(c[1]), run.err());
      assertTrue(run.oneLineError(), run.err());
      assertFalse(Files.exists(dir), "nothing written for " + c[0]);
    }
  }
}
