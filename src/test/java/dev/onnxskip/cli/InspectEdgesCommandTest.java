package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.testing.ModelEdits;
import dev.onnxskip.testing.OtherEncoders;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.LayerNorm;
import dev.onnxskip.testing.SyntheticBert.Naming;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code inspect} on models off the beaten track: a variant with every layer skipped, ALBERT-style
 * and pre-LN encoders, and probe classifiers that record their training in the metadata.
 */
class InspectEdgesCommandTest {

  private static final String MINILM = "models/minilm-l6/model.onnx";
  private static final ObjectMapper JSON = new ObjectMapper();

  // ---- variants written by rewrite ------------------------------------------------------------

  @Test
  void aVariantWithEveryLayerSkippedSaysSoFromItsProvenance(@TempDir Path tmp) throws Exception {
    Path variant = tmp.resolve("skip-0-5.onnx");
    CliRun rewrite = CliRun.of("rewrite", MINILM, "--span", "0-5", "-o", variant.toString());
    assertEquals(0, rewrite.exit(), rewrite.err());
    String sha = sha256(Path.of(MINILM));

    CliRun text = CliRun.of("inspect", variant.toString());
    assertEquals(0, text.exit(), text.err());
    assertEquals("", text.err());
    assertTrue(text.out().contains("\nencoder    0 layers left: layers 0-5 of 6 skipped, from source sha256 " + sha + " "),
        text.out());
    assertTrue(text.out().contains("\nvariant    skips layers 0-5 of a 6-layer model (source sha256 " + sha), text.out());
    assertTrue(text.out().contains("\ntokens     vocabulary 30,522, at most 512 per text"), text.out());
    assertFalse(text.out().contains("layer  nodes"), "no block table without blocks: " + text.out());

    CliRun json = CliRun.of("inspect", "--json", variant.toString());
    assertEquals(0, json.exit(), json.err());
    JsonNode j = JSON.readTree(json.out());
    assertEquals(0, j.get("layers").asInt());
    assertEquals(0, j.get("blocks").size());
    assertEquals("provenance", j.get("strategy").asText());
    assertEquals(30522, j.get("vocabulary_size").asInt());
    assertEquals(384, j.get("embedding_size").asInt());
    assertTrue(j.get("hidden_size").isNull(), "no block boundary tells the stream's width");
    JsonNode v = j.get("variant");
    assertEquals(List.of(0, 5), List.of(v.get("span").get(0).asInt(), v.get("span").get(1).asInt()));
    assertEquals(6, v.get("source_layers").asInt());
    assertEquals(sha, v.get("source_sha256").asText());
  }

  @Test
  void withoutProvenanceTheSameGraphIsStillNoEncoder(@TempDir Path tmp) throws Exception {
    Path variant = tmp.resolve("skip-0-5.onnx");
    assertEquals(0, CliRun.of("rewrite", MINILM, "--span", "0-5", "-o", variant.toString()).exit());
    ModelProto bare = ModelProto.parseFrom(Files.readAllBytes(variant)).toBuilder().clearMetadataProps().build();
    Path stripped = Files.write(tmp.resolve("stripped.onnx"), bare.toByteArray());

    CliRun run = CliRun.of("inspect", stripped.toString());
    assertEquals(1, run.exit());
    assertTrue(run.oneLineError(), run.err());
    assertTrue(run.err().contains(stripped + ": cannot find the encoder blocks: found no attention"), run.err());
  }

  @Test
  void aPartialVariantShowsItsProvenanceBesideTheLayoutFound(@TempDir Path tmp) throws Exception {
    Path variant = tmp.resolve("skip-2-3.onnx");
    assertEquals(0, CliRun.of("rewrite", MINILM, "--span", "2-3", "-o", variant.toString()).exit());
    String sha = sha256(Path.of(MINILM));

    CliRun text = CliRun.of("inspect", variant.toString());
    assertEquals(0, text.exit(), text.err());
    assertTrue(text.out().contains("\nvariant    skips layers 2-3 of a 6-layer model (source sha256 " + sha), text.out());
    assertTrue(text.out().contains("\nencoder    4 layers, hidden size 384, found by structure"), text.out());
    // Layers 0, 1, 4 and 5 are left: the third block runs from layer 1's output to layer 4's.
    assertTrue(text.out().contains(
        "/encoder/layer.1/output/LayerNorm/Add_1_output_0 -> /encoder/layer.4/output/LayerNorm/Add_1_output_0"), text.out());

    JsonNode j = JSON.readTree(CliRun.of("inspect", "--json", variant.toString()).out());
    assertEquals(4, j.get("layers").asInt());
    assertEquals(4, j.get("blocks").size());
    assertEquals(2, j.get("variant").get("span").get(0).asInt());
    assertEquals(sha, j.get("variant").get("source_sha256").asText());
  }

  // ---- ALBERT-style and pre-LN encoders -------------------------------------------------------

  @Test
  void albertReportsTheStreamWidthAndItsSharedWeightsOnce(@TempDir Path tmp) throws Exception {
    Path model = write(tmp, "albert.onnx", OtherEncoders.build(OtherEncoders.Spec.albert(12)).model());
    // One layer of width 256 and FFN 512: Q, K, V, output (4 x (256^2 + 256)), the FFN
    // (256 x 512 + 512, 512 x 256 + 256) and two LayerNorms (4 x 256), float32.
    long parameters = 4L * (256 * 256 + 256) + (256L * 512 + 512) + (512L * 256 + 256) + 4 * 256;

    CliRun text = CliRun.of("inspect", model.toString());
    assertEquals(0, text.exit(), text.err());
    assertTrue(text.out().contains("\nencoder    12 layers, hidden size 256 (embeddings 64 wide, projected to it), found by structure "
        + "(12 attention blocks on the residual stream, 2 LayerNorms each)"), text.out());
    assertTrue(text.out().contains(String.format("%nweights shared by layers 0-11 (counted once): %,d parameters, 2.0 MiB%n", parameters)),
        text.out());

    JsonNode j = JSON.readTree(CliRun.of("inspect", "--json", model.toString()).out());
    assertEquals(256, j.get("hidden_size").asInt());
    assertEquals(64, j.get("embedding_size").asInt());
    for (JsonNode b : j.get("blocks")) {
      assertEquals(0, b.get("parameters").asLong(), "no weight is one block's alone");
    }
    JsonNode shared = j.get("shared_weights");
    assertEquals(1, shared.size());
    List<Integer> layers = new ArrayList<>();
    shared.get(0).get("layers").forEach(l -> layers.add(l.asInt()));
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), layers);
    assertEquals(parameters, shared.get(0).get("parameters").asLong());
    assertEquals(4 * parameters, shared.get(0).get("parameter_bytes").asLong());
  }

  @Test
  void bertHasNoSharedWeightsAndItsEmbeddingsAreAsWideAsTheStream() throws Exception {
    CliRun text = CliRun.of("inspect", MINILM);
    assertEquals(0, text.exit(), text.err());
    assertFalse(text.out().contains("weights shared"), text.out());
    assertFalse(text.out().contains("projected"), text.out());
    JsonNode j = JSON.readTree(CliRun.of("inspect", "--json", MINILM).out());
    assertEquals(0, j.get("shared_weights").size());
    assertEquals(384, j.get("embedding_size").asInt());
  }

  @ParameterizedTest
  @EnumSource(LayerNorm.class)
  void preLnBlocksCountTheLayerNormsOnTheirBranches(LayerNorm form, @TempDir Path tmp) throws Exception {
    Path model = write(tmp, "pre-ln.onnx", OtherEncoders.build(OtherEncoders.Spec.preLn(4, form)).model());
    CliRun run = CliRun.of("inspect", model.toString());
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().contains("\nencoder    4 layers, hidden size 16, found by structure "
        + "(4 attention blocks on the residual stream, 2 LayerNorms each; agrees with /encoder/layer.N name scopes)"), run.out());
  }

  @Test
  void whereNoLayerNormIsRecognisedNoCountIsGiven(@TempDir Path tmp) throws Exception {
    ModelProto unknownNorm = ModelEdits.opTypeReplaced(
        SyntheticBert.build(Spec.tiny(3).withNaming(Naming.ANONYMOUS).withLayerNorm(LayerNorm.OP)), "LayerNormalization", "RMSNormalization");
    CliRun run = CliRun.of("inspect", write(tmp, "rms.onnx", unknownNorm).toString());
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().contains("found by structure (3 attention blocks on the residual stream)\n"), run.out());
    assertFalse(run.out().contains("LayerNorms"), run.out());
  }

  // ---- probe classifiers ----------------------------------------------------------------------

  @Test
  void probeEntriesAreListedInTheirStoredOrder(@TempDir Path tmp) throws Exception {
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("id2label", "{\"0\":\"neg\",\"1\":\"pos\"}");
    metadata.put("onnx_skip.probe", "mean pooling + linear head over last_hidden_state");
    metadata.put("onnx_skip.probe.pooling", "mean");
    metadata.put("onnx_skip.probe.c", "1.0");
    metadata.put("onnx_skip.probe.max_length", "128");
    metadata.put("onnx_skip.probex", "not a probe entry");
    metadata.put("onnx_skip.probe.train_sha256", "ab12");
    metadata.put("onnx_skip.probe.train_accuracy", "0.913");
    metadata.put("onnx_skip.probe.heldout_accuracy", "0.874");
    Path model = write(tmp, "classifier.onnx", withMetadata(SyntheticBert.build(Spec.tiny(2)), metadata));

    CliRun text = CliRun.of("inspect", model.toString());
    assertEquals(0, text.exit(), text.err());
    String expected = String.join(System.lineSeparator(),
        "probe:     mean pooling + linear head over last_hidden_state",
        "  pooling           mean",
        "  c                 1.0",
        "  max_length        128",
        "  train_sha256      ab12",
        "  train_accuracy    0.913",
        "  heldout_accuracy  0.874", "");
    assertTrue(text.out().endsWith(System.lineSeparator() + expected), text.out());

    JsonNode probe = JSON.readTree(CliRun.of("inspect", "--json", model.toString()).out()).get("probe");
    assertEquals("mean pooling + linear head over last_hidden_state", probe.get("description").asText());
    List<String> keys = new ArrayList<>();
    probe.get("entries").fieldNames().forEachRemaining(keys::add);
    assertEquals(List.of("pooling", "c", "max_length", "train_sha256", "train_accuracy", "heldout_accuracy"), keys);
    assertEquals("0.874", probe.get("entries").get("heldout_accuracy").asText());
  }

  @Test
  void probeEntriesWithoutTheDescriptionStillMakeASection(@TempDir Path tmp) throws Exception {
    Path model = write(tmp, "classifier.onnx", withMetadata(SyntheticBert.build(Spec.tiny(2)),
        Map.of("onnx_skip.probe.c", "0.5")));
    CliRun text = CliRun.of("inspect", model.toString());
    assertEquals(0, text.exit(), text.err());
    assertTrue(text.out().endsWith(String.format("%nprobe:%n  c  0.5%n")), text.out());
    JsonNode probe = JSON.readTree(CliRun.of("inspect", "--json", model.toString()).out()).get("probe");
    assertTrue(probe.get("description").isNull());
    assertEquals("0.5", probe.get("entries").get("c").asText());
  }

  @Test
  void aModelWithoutProbeMetadataHasNoProbeSection() throws Exception {
    CliRun text = CliRun.of("inspect", MINILM);
    assertEquals(0, text.exit(), text.err());
    assertFalse(text.out().contains("probe:"), text.out());
    assertNull(JSON.readTree(CliRun.of("inspect", "--json", MINILM).out()).get("probe"));
  }

  // ---- model files and digests --------------------------------------------------------------------------------

  private static ModelProto withMetadata(ModelProto model, Map<String, String> entries) {
    ModelProto.Builder b = model.toBuilder();
    entries.forEach((k, v) -> b.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
    return b.build();
  }

  private static Path write(Path dir, String name, ModelProto model) throws Exception {
    return Files.write(dir.resolve(name), model.toByteArray());
  }

  private static String sha256(Path file) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }
}
