package dev.onnxskip.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.data.BatchPlan;
import dev.onnxskip.data.DataColumns;
import dev.onnxskip.data.EncodedDataset;
import dev.onnxskip.data.LabelledData;
import dev.onnxskip.data.TextEncoder;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.rewrite.HeadWriter;
import dev.onnxskip.rewrite.Pooling;
import dev.onnxskip.rewrite.SkipRewriter;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.Validator;
import dev.onnxskip.runtime.ClassifierSignature;
import dev.onnxskip.runtime.Device;
import dev.onnxskip.runtime.OrtRuntime;
import dev.onnxskip.runtime.VariantSession;
import dev.onnxskip.runtime.WeightBuffers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The probe's ONNX head computes what the probe computes in Java, and survives skip rewrites. */
class ProbeRunTest {
  static final Path ENCODER = Path.of("models/minilm-l6/model.onnx");
  static final Path TOKENIZER = Path.of("models/minilm-l6/tokenizer.json");

  static Path trainingData(Path dir) throws Exception {
    String[] good = {"a wonderful, moving film", "great acting and a lovely story", "I loved every minute of it",
        "brilliant and funny", "one of the best movies this year", "beautiful music and a happy ending"};
    String[] bad = {"a boring, dreadful mess", "terrible acting and a dull plot", "I hated every minute of it",
        "awful and far too long", "one of the worst movies ever made", "ugly, noisy and pointless"};
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < good.length; i++) {
      lines.add("{\"text\": \"" + good[i] + "\", \"label\": \"pos\"}");
      lines.add("{\"text\": \"" + bad[i] + "\", \"label\": \"neg\"}");
    }
    return Files.write(dir.resolve("train.jsonl"), lines);
  }

  @ParameterizedTest
  @EnumSource(Pooling.class)
  void graphLogitsEqualTheProbesOwnPrediction(Pooling pooling, @TempDir Path tmp) throws Exception {
    Path train = trainingData(tmp);
    OrtRuntime cpu = OrtRuntime.open(Device.CPU, 1);
    ProbeRun.Outcome outcome = ProbeRun.train(ModelIO.load(ENCODER), TOKENIZER, train, Optional.empty(), DataColumns.DEFAULT, List.of(),
        new ProbeRun.Settings(pooling, 32, OptionalDouble.of(10.0), 5), cpu);
    assertEquals(List.of("neg", "pos"), outcome.labels(), "labels default to the data's, sorted");
    assertEquals("{\"0\":\"neg\",\"1\":\"pos\"}", outcome.classifier().metadata().get("id2label"));
    assertTrue(outcome.probe().trainAccuracy() > 0.9, "separable toy data: " + outcome.probe().trainAccuracy());

    OnnxModel encoder = ModelIO.load(ENCODER);
    LabelledData data = LabelledData.read(train, DataColumns.DEFAULT);
    EncodedDataset encoded;
    try (TextEncoder textEncoder = TextEncoder.open(TOKENIZER, 32)) {
      encoded = textEncoder.encode(data);
    }
    // Batches of 4 mix lengths, so padding must not leak into the pooled features.
    BatchPlan plan = BatchPlan.of(encoded, 4);
    float[][] features = ProbeRun.features(encoder, ClassifierSignature.tokenInputs(encoder), "last_hidden_state", pooling, plan, cpu, ENCODER.toString());
    ClassifierSignature signature = ClassifierSignature.of(outcome.classifier(), Optional.empty());
    assertEquals(2, signature.logitsWidth());
    double maxDiff = 0;
    try (WeightBuffers weights = new WeightBuffers();
        VariantSession session = VariantSession.open(outcome.classifier(), signature, cpu, "probe classifier", weights)) {
      for (int b = 0; b < plan.batchCount(); b++) {
        var batch = plan.batch(b);
        float[][] graph = session.logits(batch);
        for (int r = 0; r < batch.batchSize(); r++) {
          float[] java = outcome.probe().logits(features[batch.exampleIndex(r)]);
          for (int c = 0; c < java.length; c++) {
            maxDiff = Math.max(maxDiff, Math.abs(java[c] - graph[r][c]));
          }
        }
      }
    }
    assertTrue(maxDiff <= 1e-4, "ONNX head vs Java head, max diff " + maxDiff);
  }

  @ParameterizedTest
  @EnumSource(Pooling.class)
  void headPassesTheValidatorAndSurvivesEverySkipRewrite(Pooling pooling, @TempDir Path tmp) {
    OnnxModel encoder = ModelIO.load(ENCODER);
    float[] weights = new float[384 * 3];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = (float) Math.sin(i);
    }
    OnnxModel classifier = HeadWriter.append(encoder, "last_hidden_state", "attention_mask", pooling, weights, new float[] {0.1f, 0.2f, 0.3f},
        List.of("a", "b", "c"));
    Path saved = tmp.resolve("classifier.onnx");
    ModelIO.save(classifier.proto(), saved);
    assertTrue(Validator.validate(saved).uncheckedOps().isEmpty(), "the head is standard ONNX the reference checker accepts");
    List<String> keys = new ArrayList<>(classifier.metadata().keySet());
    // A fixed order, so that the file, and its digest in results.json, is the same on every run.
    assertEquals(List.of("id2label", "onnx_skip.probe"), keys.subList(keys.size() - 2, keys.size()));
    var layout = LayoutDetector.detect(classifier);
    assertEquals(6, layout.layers(), "the head is not mistaken for a block");
    for (SkipSpan span : List.of(new SkipSpan(0, 5), new SkipSpan(2, 3))) {
      OnnxModel variant = SkipRewriter.variant(classifier, layout, span, "sha");
      assertEquals(List.of("logits"), variant.copyGraph().outputNames());
      assertTrue(variant.copyGraph().initializers().containsKey("/onnx_skip_probe/classifier.weight"), "head weights kept");
    }
  }
}
