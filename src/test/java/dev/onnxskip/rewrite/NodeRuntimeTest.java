package dev.onnxskip.rewrite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorTypes;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.LayerNorm;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The written files load and run in ONNX Runtime for Node.js ({@code tools/check-variants.mjs}),
 * from their paths, external weights included, and give the numbers ONNX Runtime for Java gives.
 * Both are the same runtime core: this checks that the files travel, not the arithmetic.
 */
class NodeRuntimeTest {

  private static final Path SCRIPT = Path.of("tools/check-variants.mjs");
  private static final Path RUNTIME = Path.of("tools/node_modules/onnxruntime-node");
  /** Per element: the same core in two versions (1.29 for Java, 1.30 for Node.js) agrees to about 1e-6. */
  private static final double TOLERANCE = 1e-5;

  @Test
  void variantsGiveTheSameNumbersInNode(@TempDir Path tmp) throws Exception {
    // MiniLM against one shared weights file, the fused synthetic graph with com.microsoft ops,
    // and a static-shape variant, whose input dims the script must take from the file.
    OnnxModel minilm = ModelIO.load(Path.of("models/minilm-l6/model.onnx"));
    Path shared = write(minilm, tmp.resolve("minilm"), Optional.of("model.weights"), "0-0", "2-4", "5-5");
    Path fused = write(OnnxModel.of(SyntheticBert.fused(Spec.tiny(2))), tmp.resolve("fused"), Optional.empty(),
        "0-0", "0-1", "1-1");
    OnnxModel fixed = StaticShapes.apply(OnnxModel.of(SyntheticBert.build(Spec.tiny(3).withLayerNorm(LayerNorm.OP))),
        StaticShapes.Dims.parse("batch=1,sequence=5"));
    Path staticDir = write(fixed, tmp.resolve("static"), Optional.empty(), "1-2");

    Result node = runScript(shared.toString(), fused.toString(), staticDir.toString());
    assertEquals(0, node.exit(), node.err());
    List<JsonNode> lines = node.lines();
    assertEquals(7, lines.size(), node.out());

    double worst = 0;
    for (JsonNode line : lines) {
      Path file = Path.of(line.get("dir").asText()).resolve(line.get("file").asText());
      OnnxModel variant = ExternalData.inline(ModelIO.load(file));
      Map<String, OrtHarness.Floats> java = OrtHarness.run(variant, tokenInputs(variant), Map.of());
      assertEquals(List.copyOf(java.keySet()), iterable(line.get("outputs").fieldNames()), file.toString());
      for (Map.Entry<String, OrtHarness.Floats> out : java.entrySet()) {
        worst = Math.max(worst, compare(file + " " + out.getKey(), out.getValue(), line.get("outputs").get(out.getKey())));
      }
    }
    System.out.printf("Node.js vs Java ONNX Runtime on 7 variants: largest difference per element %.2e%n", worst);
  }

  @Test
  void variantsThatDoNotLoadAreReportedAndFailTheRun(@TempDir Path tmp) throws Exception {
    Path dir = write(OnnxModel.of(SyntheticBert.build(Spec.tiny(2))), tmp.resolve("v"), Optional.empty(), "0-0", "1-1");
    Files.write(dir.resolve("skip-1-1.onnx"), new byte[] {8, 1, 18, 3, 'b', 'a', 'd'});
    Result node = runScript(dir.toString());
    assertEquals(1, node.exit(), node.err());
    List<JsonNode> lines = node.lines();
    assertTrue(lines.get(0).has("outputs"), lines.get(0).toString());
    assertEquals("skip-1-1.onnx", lines.get(1).get("file").asText());
    assertFalse(lines.get(1).get("error").asText().isBlank(), lines.get(1).toString());

    Result notAFolder = runScript(tmp.resolve("nowhere").toString());
    assertEquals(2, notAFolder.exit());
    assertTrue(notAFolder.err().startsWith("check-variants: ") && notAFolder.err().contains("manifest.json: cannot read"),
        notAFolder.err());
  }

  /** Writes variants and a manifest as rewrite does; with a weights file name, against shared external weights. */
  private static Path write(OnnxModel source, Path dir, Optional<String> weights, String... spans) {
    var layout = LayoutDetector.detect(source);
    VariantWriter writer = VariantWriter.create(source, layout, "0".repeat(64), weights.map(dir::resolve));
    List<VariantWriter.Written> written = new ArrayList<>();
    for (String s : spans) {
      SkipSpan span = SkipSpans.parseOne(s, layout.layers());
      written.add(writer.write(span, dir.resolve(VariantWriter.fileName(span, layout.layers()))));
    }
    writer.writeManifest(dir, Path.of("source.onnx"), written);
    return dir;
  }

  /** The token inputs of the script's rule (see its header), for the inputs this variant declares. */
  static Map<String, long[][]> tokenInputs(OnnxModel variant) {
    List<ValueInfoProto> inputs = variant.copyGraph().runtimeInputs();
    List<String> dims = TensorTypes.dims(inputs.get(0));
    int batch = dims.get(0).matches("\\d+") ? Integer.parseInt(dims.get(0)) : 2;
    int sequence = dims.get(1).matches("\\d+") ? Integer.parseInt(dims.get(1)) : 8;
    Map<String, long[][]> feeds = new HashMap<>();
    for (ValueInfoProto in : inputs) {
      long[][] v = new long[batch][sequence];
      for (int r = 0; r < batch; r++) {
        int length = Math.max(1, sequence - 2 * r);
        for (int t = 0; t < length; t++) {
          v[r][t] = switch (in.getName()) {
            case "input_ids" -> 2 + (7 * r + 3 * t) % 29;
            case "attention_mask" -> 1;
            case "token_type_ids" -> t >= (length + 1) / 2 ? 1 : 0;
            default -> throw new AssertionError("no rule for input " + in.getName());
          };
        }
      }
      feeds.put(in.getName(), v);
    }
    return feeds;
  }

  /** Compares Java's output with the script's checksums of it; returns the largest difference seen. */
  private static double compare(String what, OrtHarness.Floats java, JsonNode node) {
    List<Long> shape = new ArrayList<>();
    node.get("shape").forEach(d -> shape.add(d.asLong()));
    assertEquals(java.shape().length, shape.size(), what);
    for (int d = 0; d < shape.size(); d++) {
      assertEquals(java.shape()[d], shape.get(d), what + " shape");
    }
    float[] v = java.data();
    double sum = 0;
    double sumAbs = 0;
    double sumWeighted = 0;
    for (int i = 0; i < v.length; i++) {
      sum += v[i];
      sumAbs += Math.abs(v[i]);
      sumWeighted += v[i] * ((i % 1009) + 1) / 1009.0;
    }
    double worst = 0;
    worst = Math.max(worst, check(what + " sum", sum, node.get("sum").asDouble(), v.length));
    worst = Math.max(worst, check(what + " sum_abs", sumAbs, node.get("sum_abs").asDouble(), v.length));
    worst = Math.max(worst, check(what + " sum_weighted", sumWeighted, node.get("sum_weighted").asDouble(), v.length));
    for (int k = 0; k < 8; k++) {
      int i = (int) Math.floor(k * (v.length - 1) / 7.0);
      worst = Math.max(worst, check(what + " sample " + k, v[i], node.get("sample").get(k).asDouble(), 1));
    }
    return worst;
  }

  /** A sum over n elements may differ by the tolerance per element. */
  private static double check(String what, double java, double node, int n) {
    double diff = Math.abs(java - node);
    if (diff > TOLERANCE * n) {
      fail(what + ": Java " + java + ", Node.js " + node);
    }
    return diff / n;
  }

  private static List<String> iterable(java.util.Iterator<String> it) {
    List<String> l = new ArrayList<>();
    it.forEachRemaining(l::add);
    return l;
  }

  record Result(int exit, String out, String err) {
    List<JsonNode> lines() throws IOException {
      List<JsonNode> l = new ArrayList<>();
      for (String line : out.lines().toList()) {
        l.add(new ObjectMapper().readTree(line));
      }
      return l;
    }
  }

  /**
   * Runs the script with node. Both must be there: CI installs the runtime package with the
   * Makefile's tools/node_modules rule; a missing piece fails the test with the command to run.
   */
  private static Result runScript(String... dirs) throws Exception {
    if (!Files.isDirectory(RUNTIME)) {
      fail(RUNTIME + " is missing: run 'make tools/node_modules' (cd tools && ONNXRUNTIME_NODE_INSTALL=skip npm ci)");
    }
    List<String> command = new ArrayList<>(List.of("node", SCRIPT.toString()));
    command.addAll(List.of(dirs));
    Process p;
    try {
      p = new ProcessBuilder(command).start();
    } catch (IOException e) {
      fail("cannot start node (" + e.getMessage() + "); this check needs Node.js on the PATH");
      throw e;
    }
    p.getOutputStream().close();
    var out = p.getInputStream().readAllBytes();
    var err = p.getErrorStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("node " + SCRIPT + " did not finish in 120 s");
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
  }
}
