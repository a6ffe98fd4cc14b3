package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class InspectCommandTest {

  @ParameterizedTest
  @ValueSource(strings = {"models/minilm-l6/model.onnx", "models/minilm-l6-q/model.onnx"})
  void jsonDescribesTheRealMiniLmBlocks(String model) throws Exception {
    CliRun run = CliRun.of("inspect", "--json", model);
    assertEquals(0, run.exit(), run.err());
    JsonNode j = new ObjectMapper().readTree(run.out());
    assertEquals(6, j.get("layers").asInt());
    assertEquals(384, j.get("hidden_size").asInt());
    assertEquals(30522, j.get("vocabulary_size").asInt());
    assertEquals(512, j.get("max_positions").asInt());
    assertEquals("structure", j.get("strategy").asText());
    assertEquals("/embeddings/LayerNorm/Add_1_output_0", j.get("blocks").get(0).get("input").asText());
    for (int k = 0; k < 6; k++) {
      JsonNode b = j.get("blocks").get(k);
      assertEquals(k, b.get("index").asInt());
      String out = k == 5 ? "last_hidden_state" : "/encoder/layer." + k + "/output/LayerNorm/Add_1_output_0";
      assertEquals(out, b.get("output").asText());
      if (k > 0) {
        assertEquals(j.get("blocks").get(k - 1).get("output").asText(), b.get("input").asText());
      }
    }
    assertEquals("/Mul_output_0", j.get("shared_side_inputs").get(0).asText());
    assertEquals(11, j.get("opsets").get("ai.onnx").asInt());
    assertEquals("input_ids", j.get("inputs").get(0).get("name").asText());
    assertEquals("int64 [batch_size, sequence_length]", j.get("inputs").get(0).get("type").asText());
  }

  @Test
  void floatBlockParametersAreOneBertLayer() throws Exception {
    JsonNode j = new ObjectMapper().readTree(CliRun.of("inspect", "--json", "models/minilm-l6/model.onnx").out());
    // Q, K, V and output projections (4 x 384 x 384 + 4 x 384), FFN (2 x 384 x 1536 + 1536 + 384),
    // and two LayerNorms (4 x 384): the parameters of one MiniLM layer, computed independently.
    long h = 384;
    long f = 1536;
    long expected = 4 * (h * h + h) + (h * f + f) + (f * h + h) + 4 * h;
    for (JsonNode b : j.get("blocks")) {
      assertEquals(expected, b.get("parameters").asLong());
      assertEquals(expected * 4, b.get("parameter_bytes").asLong());
    }
  }

  @Test
  void textOutputNamesStrategyAndBlocks() {
    CliRun run = CliRun.of("inspect", "models/minilm-l6/model.onnx");
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().contains("6 layers, hidden size 384, found by structure"), run.out());
    assertTrue(run.out().contains("/encoder/layer.4/output/LayerNorm/Add_1_output_0 -> last_hidden_state"), run.out());
  }

  @Test
  void manualBoundariesAreCheckedAgainstTheStream(@TempDir Path tmp) {
    CliRun bad = CliRun.of("inspect", "models/minilm-l6/model.onnx", "--boundaries", "/embeddings/LayerNorm/Add_1_output_0,nope");
    assertEquals(2, bad.exit(), "boundaries that do not fit the model are a usage error");
    assertTrue(bad.err().contains("tensor 'nope' does not exist"), bad.err());
    assertTrue(bad.oneLineError(), bad.err());

    CliRun offStream = CliRun.of("inspect", "models/minilm-l6/model.onnx", "--boundaries",
        "/embeddings/LayerNorm/Add_1_output_0,/encoder/layer.0/attention/self/Softmax_output_0");
    assertEquals(2, offStream.exit());
    assertTrue(offStream.err().contains("is not on the residual stream"), offStream.err());

    CliRun two = CliRun.of("inspect", "--json", "models/minilm-l6/model.onnx", "--boundaries",
        "/embeddings/LayerNorm/Add_1_output_0,/encoder/layer.2/output/LayerNorm/Add_1_output_0,last_hidden_state");
    assertEquals(0, two.exit(), two.err());
    assertTrue(two.out().contains("\"layers\" : 2"), two.out());
    assertTrue(two.out().contains("\"strategy\" : \"manual\""), two.out());
  }

  @Test
  void badModelFilesGiveOneLineErrors(@TempDir Path tmp) throws Exception {
    Path random = tmp.resolve("random.onnx");
    byte[] bytes = new byte[4096];
    new java.util.Random(7).nextBytes(bytes);
    Files.write(random, bytes);
    Path empty = Files.createFile(tmp.resolve("empty.onnx"));
    Path truncated = tmp.resolve("truncated.onnx");
    try (var in = Files.newInputStream(Path.of("models/minilm-l6/model.onnx"))) {
      Files.write(truncated, in.readNBytes(1_000_000));
    }
    String[][] cases = {
      {tmp.resolve("missing.onnx").toString(), "no such file"},
      {tmp.toString(), "is a directory"},
      {random.toString(), "not"},
      {empty.toString(), "empty file"},
      {truncated.toString(), "truncated or corrupt"},
    };
    for (String[] c : cases) {
      CliRun run = CliRun.of("inspect", c[0]);
      assertEquals(1, run.exit(), c[0]);
      assertTrue(run.err().contains(c[0]) && run.err().contains(c[1]), run.err());
      assertTrue(run.oneLineError(), run.err());
    }
  }
}
