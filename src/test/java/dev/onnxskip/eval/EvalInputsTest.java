package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.UsageException;
import dev.onnxskip.data.DataColumns;
import dev.onnxskip.data.SyntheticData;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.runtime.ClassifierSignature;
import dev.onnxskip.runtime.Device;
import dev.onnxskip.testing.ModelEdits;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The inputs eval must cope with: int32 token inputs, models without token_type_ids, CSV and TSV
 * files with string or integer labels, text pairs, and the auto device. Where it matters, the logits
 * are checked against the baseline model run directly in ONNX Runtime on token ids this test builds
 * from the vocabulary itself.
 */
class EvalInputsTest {

  static final Spec SPEC = Spec.tiny(3).withHead(Head.MEAN_POOL_CLASSIFIER, 2);
  static final WordTokenizer WORDS = WordTokenizer.numbered(SPEC.vocab(), true);
  static final List<String> TEXTS = SyntheticData.texts(16, SPEC.vocab(), 6);

  @TempDir static Path dir;
  static Path model;
  static Path tokenizer;
  static Path data;

  @BeforeAll
  static void write() throws IOException {
    model = dir.resolve("model.onnx");
    ModelIO.save(SyntheticBert.build(SPEC), model);
    tokenizer = WORDS.write(dir.resolve("tokenizer.json"));
    data = Files.writeString(dir.resolve("data.jsonl"), SyntheticData.jsonLines(TEXTS, "neg", "pos"));
  }

  static EvalConfig config(Path model, Path data, DataColumns columns, Device device) {
    return new EvalConfig(new EvalConfig.Inputs(model, tokenizer, data, columns), EvalConfig.ModelReading.labelled(List.of("neg", "pos")),
        "all", new EvalConfig.Batching(5, 32, true), new EvalConfig.Execution(device, 0, EngineKind.SHARED));
  }

  static EvalRun.Outcome run(Path model, Path data, Path out) {
    return ReportedRun.of(config(model, data, DataColumns.DEFAULT, Device.CPU), out, true);
  }

  /**
   * A text longer than the model's 64 positions is refused up front, naming its line and the
   * limit; at the limit, the same text runs.
   */
  @Test
  void aTextLongerThanThePositionTableIsRefusedByLine(@TempDir Path out) throws IOException {
    String longText = String.join(" ", java.util.Collections.nCopies(70, "w9"));
    Path longData = Files.writeString(dir.resolve("long.jsonl"), SyntheticData.jsonLines(List.of("w5 w6", longText), "neg", "pos"));
    EvalConfig.Inputs inputs = new EvalConfig.Inputs(model, tokenizer, longData, DataColumns.DEFAULT);
    EvalConfig.ModelReading labelled = EvalConfig.ModelReading.labelled(List.of("neg", "pos"));
    EvalConfig.Execution cpu = new EvalConfig.Execution(Device.CPU, 0, EngineKind.SHARED);
    EvalConfig tooLong = new EvalConfig(inputs, labelled, "0-0", new EvalConfig.Batching(5, 100, true), cpu);
    UsageException e = assertThrows(UsageException.class,
        () -> ReportedRun.of(tooLong, out.resolve("refused"), true));
    assertEquals(longData + " line 2: the text has 72 tokens, more than the model's 64 positions; use --max-length 64 or less",
        e.getMessage());
    assertFalse(Files.exists(out.resolve("refused").resolve("results.json")));
    EvalConfig atLimit = new EvalConfig(inputs, labelled, "0-0", new EvalConfig.Batching(5, 64, true), cpu);
    ReportedRun.of(atLimit, out.resolve("cut"), true);
    assertTrue(Files.exists(out.resolve("cut").resolve("results.json")));
  }

  @Test
  void int32TokenInputsGiveTheSameLogitsAsInt64(@TempDir Path out) throws IOException {
    ModelProto narrowed = ModelEdits.withInt32Inputs(SyntheticBert.build(SPEC));
    Path int32 = dir.resolve("int32.onnx");
    ModelIO.save(narrowed, int32);
    assertTrue(ClassifierSignature.of(ModelIO.load(int32), Optional.empty()).inputs().stream().allMatch(ClassifierSignature.TokenInput::int32));
    run(int32, data, out.resolve("int32"));
    run(model, data, out.resolve("int64"));
    Map<String, float[][]> wide = EvalOutputs.logits(out.resolve("int64"));
    Map<String, float[][]> narrow = EvalOutputs.logits(out.resolve("int32"));
    assertEquals(wide.keySet(), narrow.keySet());
    wide.forEach((variant, logits) -> EvalOutputs.assertClose(logits, narrow.get(variant), 0, variant));
  }

  @Test
  void aModelWithoutTokenTypeIdsEvaluates(@TempDir Path out) throws Exception {
    ModelProto noTypes = SyntheticBert.build(SPEC.withTokenTypeIds(false));
    Path file = dir.resolve("no-types.onnx");
    ModelIO.save(noTypes, file);
    assertTrue(noTypes.getGraph().getInputList().stream().noneMatch(i -> i.getName().equals("token_type_ids")));
    run(file, data, out);
    List<long[][]> inputs = new ArrayList<>();
    for (String text : TEXTS) {
      inputs.add(new long[][] {WORDS.ids(text), null});
    }
    EvalOutputs.assertClose(runEachAlone(noTypes, inputs), EvalOutputs.logits(out).get("baseline"), 1e-5, "baseline");
  }

  @Test
  void csvAndTsvWithStringOrIntegerLabelsReadLikeJsonLines(@TempDir Path out) throws IOException {
    // A CSV field with a comma and a doubled quote; the TSV holds a bare quote, as GLUE files do.
    List<String> texts = new ArrayList<>(TEXTS);
    texts.set(1, "w4, w9 \"w10\"");
    texts.set(2, "w5 \" w6");
    Path jsonl = Files.writeString(out.resolve("data.jsonl"), SyntheticData.jsonLines(texts, "neg", "pos"));
    StringBuilder csv = new StringBuilder("id,label,text\n");
    StringBuilder tsv = new StringBuilder("text\tlabel\n");
    for (int i = 0; i < texts.size(); i++) {
      csv.append(i).append(',').append(i % 2).append(",\"").append(texts.get(i).replace("\"", "\"\"")).append("\"\n");
      tsv.append(texts.get(i)).append('\t').append(i % 2 == 0 ? "neg" : "pos").append('\n');
    }
    Path csvFile = Files.writeString(out.resolve("data.csv"), csv);
    Path tsvFile = Files.writeString(out.resolve("data.tsv"), tsv);
    String expected = null;
    Map<String, float[][]> expectedLogits = null;
    for (Path file : List.of(jsonl, csvFile, tsvFile)) {
      Path o = out.resolve("out-" + file.getFileName());
      run(model, file, o);
      JsonNode results = new ObjectMapper().readTree(o.resolve("results.json").toFile());
      assertEquals(16, results.get("provenance").get("examples").asInt());
      String scores = results.get("variants").toString();
      Map<String, float[][]> logits = EvalOutputs.logits(o);
      if (expected == null) {
        expected = scores;
        expectedLogits = logits;
      } else {
        assertEquals(expected, scores, file.getFileName().toString());
        Map<String, float[][]> first = expectedLogits;
        logits.forEach((variant, l) -> EvalOutputs.assertClose(first.get(variant), l, 0, file.getFileName() + " " + variant));
      }
    }
  }

  @Test
  void textPairsAreEncodedAsPairsWithTheirTypeIds(@TempDir Path out) throws Exception {
    StringBuilder tsv = new StringBuilder("premise\thypothesis\tlabel\n");
    List<long[][]> asPairs = new ArrayList<>();
    List<long[][]> asOneSegment = new ArrayList<>();
    List<String> second = SyntheticData.texts(TEXTS.size(), SPEC.vocab(), 60);
    for (int i = 0; i < TEXTS.size(); i++) {
      tsv.append(TEXTS.get(i)).append('\t').append(second.get(i)).append('\t').append(i % 2).append('\n');
      long[][] pair = WORDS.pairIds(TEXTS.get(i), second.get(i));
      asPairs.add(pair);
      asOneSegment.add(new long[][] {pair[0], new long[pair[0].length]});
    }
    Path pairs = Files.writeString(out.resolve("pairs.tsv"), tsv);
    ReportedRun.of(config(model, pairs, new DataColumns("premise", "hypothesis", "label"), Device.CPU), out.resolve("run"), true);
    float[][] evaluated = EvalOutputs.logits(out.resolve("run")).get("baseline");
    ModelProto proto = ModelIO.load(model).proto();
    EvalOutputs.assertClose(runEachAlone(proto, asPairs), evaluated, 1e-5, "pair baseline");
    // The type ids matter to this model, so a pair encoded as one segment would have been caught.
    assertNotEquals(runEachAlone(proto, asOneSegment)[0][0], evaluated[0][0], 1e-4);
  }

  @Test
  void batchingInDataOrderOrByLengthGivesTheSameResults(@TempDir Path out) throws IOException {
    run(model, data, out.resolve("sorted"));
    EvalConfig sorted = config(model, data, DataColumns.DEFAULT, Device.CPU);
    EvalConfig inDataOrder = new EvalConfig(sorted.inputs(), sorted.reading(), "all", new EvalConfig.Batching(3, 32, false),
        sorted.execution());
    ReportedRun.of(inDataOrder, out.resolve("unsorted"), true);
    ObjectMapper json = new ObjectMapper();
    assertEquals(json.readTree(out.resolve("sorted/results.json").toFile()).get("variants"),
        json.readTree(out.resolve("unsorted/results.json").toFile()).get("variants"));
    Map<String, float[][]> unsorted = EvalOutputs.logits(out.resolve("unsorted"));
    EvalOutputs.logits(out.resolve("sorted")).forEach((variant, logits) ->
        EvalOutputs.assertClose(logits, unsorted.get(variant), 1e-5, variant));
  }

  @Test
  void autoDeviceRunsOnTheCpuOfThisBuildAndSaysWhy(@TempDir Path out) throws IOException {
    EvalRun.Outcome outcome = ReportedRun.of(config(model, data, DataColumns.DEFAULT, Device.parse("auto")), out, false);
    assertTrue(outcome.timing().device().startsWith("auto: CUDA unavailable (this build of onnx-skip has no CUDA support;"),
        outcome.timing().device());
    assertTrue(outcome.timing().device().endsWith("), using cpu"), outcome.timing().device());
    assertEquals("cpu", outcome.results().provenance().get("device"));
    assertEquals(outcome.timing().device(), new ObjectMapper().readTree(out.resolve("timing.json").toFile()).get("device").asText());
    assertFalse(Files.exists(out.resolve("predictions.jsonl")), "predictions only when asked for");
  }

  /**
   * Baseline logits, each example run on its own without padding.
   *
   * @param inputs per example its token ids and token type ids (null when the model takes none)
   */
  static float[][] runEachAlone(ModelProto model, List<long[][]> inputs) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    float[][] logits = new float[inputs.size()][];
    try (OrtSession session = env.createSession(model.toByteArray(), new OrtSession.SessionOptions())) {
      for (int i = 0; i < inputs.size(); i++) {
        long[] ids = inputs.get(i)[0];
        long[] mask = new long[ids.length];
        Arrays.fill(mask, 1);
        Map<String, OnnxTensor> feeds = new HashMap<>();
        try {
          feeds.put("input_ids", OnnxTensor.createTensor(env, new long[][] {ids}));
          feeds.put("attention_mask", OnnxTensor.createTensor(env, new long[][] {mask}));
          if (inputs.get(i)[1] != null) {
            feeds.put("token_type_ids", OnnxTensor.createTensor(env, new long[][] {inputs.get(i)[1]}));
          }
          try (OrtSession.Result result = session.run(feeds)) {
            logits[i] = ((float[][]) result.get("logits").orElseThrow().getValue())[0];
          }
        } finally {
          feeds.values().forEach(OnnxTensor::close);
        }
      }
    }
    return logits;
  }
}
