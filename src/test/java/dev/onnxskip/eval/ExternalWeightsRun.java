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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A classifier whose every weight lives in an external-data file, as {@code torch.onnx.export}
 * writes a model over 2 GB, through inspect, rewrite with --external-data into another folder, and
 * eval with both engines on a few short texts: the engines agree (same predictions, logits within
 * 1e-5), and so does ONNX Runtime running the first span's variant file on its own.
 *
 * @param spans two spans, the first of which is checked against its variant file
 */
record ExternalWeightsRun(StreamedBert.Spec spec, String spans, String firstVariantFile) {

  static final List<String> LABELS = List.of("0", "1");

  void check(Path dir) throws Exception {
    WordTokenizer words = WordTokenizer.numbered(spec.vocab(), true);
    List<String> texts = SyntheticData.texts(6, spec.vocab(), 19);
    Path model = StreamedBert.write(spec, dir.resolve("cls.onnx"), "cls.onnx.data");
    Path tokenizer = words.write(dir.resolve("tokenizer.json"));
    Path data = Files.writeString(dir.resolve("data.jsonl"), SyntheticData.jsonLines(texts, LABELS.toArray(String[]::new)));
    assertTrue(Files.size(model) < 1 << 20, "the graph file holds no weights");
    assertEquals(spec.weightBytes(), Files.size(dir.resolve("cls.onnx.data")));

    String inspected = EvalCli.ok("inspect", model.toString());
    assertTrue(inspected.contains("encoder    " + spec.layers() + " layers, hidden size " + spec.hidden()), inspected);

    Path variants = dir.resolve("variants");
    EvalCli.ok("rewrite", model.toString(), "--spans", spans, "--external-data", "-o", variants.toString());
    Path first = variants.resolve(firstVariantFile);
    OnnxModel written = ModelIO.load(first);
    assertTrue(ExternalData.hasExternal(written.proto()) && Files.size(first) < 1 << 20, "the variant keeps its weights apart");

    Map<String, float[][]> byEngine = null;
    Map<String, List<String>> predicted = null;
    for (String engine : List.of("naive", "shared")) {
      Path out = dir.resolve(engine);
      EvalCli.ok("eval", "--model", model.toString(), "--tokenizer", tokenizer.toString(), "--data", data.toString(), "--spans", spans,
          "--engine", engine, "--batch-size", "4", "--max-length", "16", "--save-predictions", "--quiet", "--out", out.toString());
      Map<String, float[][]> logits = EvalOutputs.logits(out);
      List<String> expected = new java.util.ArrayList<>(List.of("baseline"));
      expected.addAll(List.of(spans.split(",")));
      assertEquals(expected, List.copyOf(logits.keySet()));
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
    String firstSpan = spans.split(",")[0];
    float[][] standalone = runAlone(first, texts);
    EvalOutputs.assertClose(standalone, byEngine.get(firstSpan), 1e-5, "span " + firstSpan + " against its variant file in ONNX Runtime");
    assertTrue(EvalOutputs.maxDifference(byEngine.get("baseline"), byEngine.get(firstSpan)) > 1e-4, "skipping layers changes the logits");
  }

  /** The logits of each text, one at a time, from a session ONNX Runtime opens from the variant's file. */
  private static float[][] runAlone(Path variant, List<String> texts) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    float[][] logits = new float[texts.size()][];
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        OrtSession session = env.createSession(variant.toString(), opts)) {
      for (int i = 0; i < texts.size(); i++) {
        String[] words = texts.get(i).split(" ");
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
