package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.data.SyntheticData;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.testing.StreamedBert;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A BERT-shaped classifier of 19 layers at hidden size 1536, 2.15 GB of float weights in an
 * external-data file, through inspect, rewrite with --external-data and eval with both engines,
 * the way a user holding an export over protobuf's 2 GB limit runs them. Its own target ({@code
 * make test-large}): writing and reading the weights takes a minute and about 4.5 GB of disk.
 */
@Tag("large")
class LargeModelTest {

  static final StreamedBert.Spec SPEC = new StreamedBert.Spec(19, 1536, 12, 6144, 512, 64, 2, 7);
  static final WordTokenizer WORDS = WordTokenizer.numbered(SPEC.vocab(), true);
  static final List<String> TEXTS = SyntheticData.texts(6, SPEC.vocab(), 19);
  static final String SPANS = "3-5,10-10";

  @TempDir static Path dir;
  static Path model;
  static Path tokenizer;
  static Path data;

  @BeforeAll
  static void writeModel() throws IOException {
    assertTrue(SPEC.weightBytes() > Integer.MAX_VALUE, "the weights exceed 2 GB");
    assertTrue(Files.getFileStore(dir).getUsableSpace() > 6L << 30, "needs 6 GB of free disk in " + dir);
    model = StreamedBert.write(SPEC, dir.resolve("bigcls.onnx"), "bigcls.onnx.data");
    tokenizer = WORDS.write(dir.resolve("tokenizer.json"));
    data = Files.writeString(dir.resolve("data.jsonl"), SyntheticData.jsonLines(TEXTS, "0", "1"));
  }

  @Test
  void inspectRewriteAndBothEnginesAgreeOnAModelOver2Gb() throws Exception {
    assertTrue(Files.size(model) < 1 << 20, "the graph file holds no weights");
    assertEquals(SPEC.weightBytes(), Files.size(dir.resolve("bigcls.onnx.data")));

    String inspected = EvalCli.ok("inspect", model.toString());
    assertTrue(inspected.contains("encoder    19 layers, hidden size 1536"), inspected);

    Path variants = dir.resolve("variants");
    EvalCli.ok("rewrite", model.toString(), "--spans", SPANS, "--external-data", "-o", variants.toString());
    Path skip35 = variants.resolve("skip-03-05.onnx");
    OnnxModel written = ModelIO.load(skip35);
    assertTrue(ExternalData.hasExternal(written.proto()) && Files.size(skip35) < 1 << 20, "the variant keeps its weights apart");

    Map<String, float[][]> byEngine = null;
    Map<String, List<String>> predicted = null;
    for (String engine : List.of("naive", "shared")) {
      Path out = dir.resolve(engine);
      EvalCli.ok("eval", "--model", model.toString(), "--tokenizer", tokenizer.toString(), "--data", data.toString(), "--spans", SPANS,
          "--engine", engine, "--batch-size", "4", "--max-length", "16", "--save-predictions", "--quiet", "--out", out.toString());
      Map<String, float[][]> logits = EvalOutputs.logits(out);
      assertEquals(List.of("baseline", "3-5", "10-10"), List.copyOf(logits.keySet()));
      if (byEngine == null) {
        byEngine = logits;
        predicted = EvalOutputs.predictions(out);
      } else {
        assertEquals(predicted, EvalOutputs.predictions(out), "the engines predict the same labels");
        for (Map.Entry<String, float[][]> e : byEngine.entrySet()) {
          EvalOutputs.assertClose(e.getValue(), logits.get(e.getKey()), 1e-5, e.getKey());
        }
      }
    }
    float[][] standalone = runAlone(skip35);
    EvalOutputs.assertClose(standalone, byEngine.get("3-5"), 1e-5, "span 3-5 against its variant file in ONNX Runtime");
    assertTrue(EvalOutputs.maxDifference(byEngine.get("baseline"), byEngine.get("3-5")) > 1e-3, "skipping layers changes the logits");
  }

  /** The logits of each text, one at a time, from a session ONNX Runtime opens from the variant's file. */
  private static float[][] runAlone(Path variant) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    float[][] logits = new float[TEXTS.size()][];
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        OrtSession session = env.createSession(variant.toString(), opts)) {
      for (int i = 0; i < TEXTS.size(); i++) {
        String[] words = TEXTS.get(i).split(" ");
        long[] ids = new long[words.length + 2];
        ids[0] = WordTokenizer.CLS;
        for (int w = 0; w < words.length; w++) {
          ids[w + 1] = Long.parseLong(words[w].substring(1));
        }
        ids[ids.length - 1] = WordTokenizer.SEP;
        long[] mask = new long[ids.length];
        Arrays.fill(mask, 1);
        try (OnnxTensor idsT = OnnxTensor.createTensor(env, new long[][] {ids});
            OnnxTensor maskT = OnnxTensor.createTensor(env, new long[][] {mask});
            OrtSession.Result result = session.run(Map.of("input_ids", idsT, "attention_mask", maskT))) {
          logits[i] = ((float[][]) result.get("logits").orElseThrow().getValue())[0];
        }
      }
    }
    return logits;
  }
}
