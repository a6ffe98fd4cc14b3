package dev.onnxskip.rewrite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.testing.SyntheticBert;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Hugging Face-style model folder: its files, its config.json and its all-or-nothing writing. */
class ModelFolderTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A 3-layer encoder saved in {@code dir}, with a tokenizer folder beside it. */
  private static Path source(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path model = dir.resolve("model.onnx");
    ModelIO.save(SyntheticBert.build(SyntheticBert.Spec.tiny(3)), model);
    Path tokenizer = Files.createDirectories(dir.resolve("tok"));
    Files.writeString(tokenizer.resolve("tokenizer.json"), "{\"truncation\": {\"max_length\": 64}}");
    Files.writeString(tokenizer.resolve("vocab.txt"), "[PAD]\n[UNK]\n");
    Files.writeString(tokenizer.resolve("special_tokens_map.json"), "{}");
    return model;
  }

  private static ModelFolder.Written write(Path model, Variant variant, Path target, ModelFolder.Layout layout) {
    OnnxModel source = ModelIO.load(model);
    EncoderLayout encoder = LayoutDetector.detect(source);
    return ModelFolder.write(source, encoder, variant, model,
        new ModelFolder.Contents(model.resolveSibling("tok"), List.of("neg", "pos"), "bert", layout, OptionalInt.empty()), target, false);
  }

  @Test
  void aModelWithoutConfigGetsOneMadeFromTheGraphAndTheLabels(@TempDir Path tmp) throws IOException {
    Path model = source(tmp.resolve("src"));
    Path out = tmp.resolve("out");
    ModelFolder.Written w = write(model, new SkipSpan(1, 1), out, ModelFolder.Layout.ONNX_SUBFOLDER);
    assertEquals(2, w.layers());
    OnnxModel written = ModelIO.load(out.resolve("onnx/model.onnx"));
    assertEquals(2, LayoutDetector.detect(written).layers());
    assertEquals(new SkipSpan(1, 1), Provenance.read(written).orElseThrow().span());
    JsonNode config = JSON.readTree(out.resolve("config.json").toFile());
    assertEquals("bert", config.get("model_type").asText());
    assertEquals("BertForSequenceClassification", config.get("architectures").get(0).asText());
    assertEquals(2, config.get("num_hidden_layers").asInt());
    assertEquals("pos", config.get("id2label").get("1").asText());
    assertEquals(0, config.get("label2id").get("neg").asInt());
    assertEquals(3, config.get("onnx_skip").get("source_layers").asInt());
    assertEquals(1, config.get("onnx_skip").get("skipped_span").get(0).asInt());
    assertEquals("made from the model", config.get("onnx_skip").get("config").asText());
    assertEquals(List.of("tokenizer.json", "special_tokens_map.json", "vocab.txt"), w.copied());
    assertEquals("[PAD]\n[UNK]\n", Files.readString(out.resolve("vocab.txt")));
    assertTrue(w.madeTokenizerConfig());
    assertEquals(64, JSON.readTree(out.resolve("tokenizer_config.json").toFile()).get("model_max_length").asInt(),
        "the tokenizer's own truncation");
    assertFalse(Files.exists(out.resolve("merges.txt")), "files the tokenizer lacks are not made up");
  }

  @Test
  void aConfigBesideTheSourceIsCopiedWithTheFamilysDepthKey(@TempDir Path tmp) throws IOException {
    // An optimum export: config.json in the folder above onnx/model.onnx, DistilBERT naming its depth n_layers.
    Path model = source(tmp.resolve("export/onnx"));
    Files.move(model.resolveSibling("tok"), tmp.resolve("export/onnx/tok"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(tmp.resolve("export/config.json"),
        "{\"model_type\": \"distilbert\", \"n_layers\": 3, \"dim\": 32, \"id2label\": {\"0\": \"NEG\", \"1\": \"POS\"}}");
    Files.writeString(model.resolveSibling("tok").resolve("tokenizer_config.json"), "{\"model_max_length\": 512, \"do_lower_case\": true}");
    Path out = tmp.resolve("out");
    ModelFolder.Written w = write(model, new SkipSpan(0, 1), out, ModelFolder.Layout.ROOT);
    assertTrue(Files.isRegularFile(out.resolve("model.onnx")));
    assertFalse(Files.exists(out.resolve("onnx")));
    JsonNode config = JSON.readTree(out.resolve("config.json").toFile());
    assertEquals(1, config.get("n_layers").asInt());
    assertFalse(config.has("num_hidden_layers"));
    assertEquals(32, config.get("dim").asInt(), "the rest is kept");
    assertEquals("NEG", config.get("id2label").get("0").asText(), "the source's own labels");
    assertEquals("copied from beside the source model", config.get("onnx_skip").get("config").asText());
    assertTrue(w.configFrom().startsWith("beside the source model"));
    assertFalse(w.madeTokenizerConfig());
    assertTrue(JSON.readTree(out.resolve("tokenizer_config.json").toFile()).get("do_lower_case").asBoolean());
  }

  @Test
  void theBaselineIsTheSourceModelUnchanged(@TempDir Path tmp) throws IOException {
    Path model = source(tmp.resolve("src"));
    Path out = tmp.resolve("out");
    write(model, Variant.BASELINE, out, ModelFolder.Layout.ONNX_SUBFOLDER);
    assertEquals(ModelIO.load(model).proto(), ModelIO.load(out.resolve("onnx/model.onnx")).proto());
    assertEquals(3, JSON.readTree(out.resolve("config.json").toFile()).get("num_hidden_layers").asInt());
    assertTrue(JSON.readTree(out.resolve("config.json").toFile()).get("onnx_skip").get("skipped_span").isNull());
  }

  @Test
  void aFailedWriteLeavesNothingAndAnExistingFolderIsReplacedOnlyWhenAllowed(@TempDir Path tmp) throws IOException {
    Path model = source(tmp.resolve("src"));
    Files.delete(model.resolveSibling("tok").resolve("tokenizer.json"));
    Path out = tmp.resolve("parent/out");
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> write(model, new SkipSpan(0, 0), out, ModelFolder.Layout.ROOT));
    assertTrue(e.getMessage().contains("no tokenizer.json in"), e.getMessage());
    assertFalse(Files.exists(out));

    Files.writeString(model.resolveSibling("tok").resolve("tokenizer.json"), "{}");
    Files.createDirectories(out);
    Files.writeString(out.resolve("old.txt"), "earlier");
    assertThrows(OnnxSkipException.class, () -> write(model, new SkipSpan(0, 0), out, ModelFolder.Layout.ROOT));
    assertEquals("earlier", Files.readString(out.resolve("old.txt")), "left as it was");
    OnnxModel source = ModelIO.load(model);
    ModelFolder.write(source, LayoutDetector.detect(source), new SkipSpan(0, 0), model,
        new ModelFolder.Contents(model.resolveSibling("tok"), List.of("neg", "pos"), "bert", ModelFolder.Layout.ROOT, OptionalInt.of(32)),
        out, true);
    assertFalse(Files.exists(out.resolve("old.txt")), "replaced whole");
    assertEquals(32, JSON.readTree(out.resolve("tokenizer_config.json").toFile()).get("model_max_length").asInt(), "the evaluated length");
    try (Stream<Path> left = Files.list(tmp.resolve("parent"))) {
      assertEquals(List.of(out), left.toList(), "no temporary folder left beside it");
    }
  }

  @Test
  void architecturesFollowTheFamily() {
    assertEquals("XLMRobertaForSequenceClassification", ModelFolder.architecture("xlm-roberta"));
    assertEquals("DistilBertForSequenceClassification", ModelFolder.architecture("distilbert"));
    assertEquals("NewmodelForSequenceClassification", ModelFolder.architecture("newmodel"));
  }
}
