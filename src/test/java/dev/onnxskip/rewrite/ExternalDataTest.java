package dev.onnxskip.rewrite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtSession;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Models whose weights live in ONNX external-data files load, rewrite and run like inline ones. */
class ExternalDataTest {
  @TempDir static Path tmp;
  static OnnxModel inline;
  static Path externalModel;

  @BeforeAll
  static void writeExternalCopy() {
    inline = ModelIO.load(Path.of("models/minilm-l6/model.onnx"));
    Path dir = tmp.resolve("ext");
    SharedWeights weights = SharedWeights.write(inline, dir.resolve("model.onnx.data"));
    externalModel = dir.resolve("model.onnx");
    ModelIO.save(weights.externalize(inline.proto()), externalModel);
  }

  @Test
  void externalModelLoadsAndRunsFromItsPath() throws Exception {
    OnnxModel loaded = ModelIO.load(externalModel);
    assertTrue(ExternalData.hasExternal(loaded.proto()));
    assertTrue(Files.size(externalModel) < 1_000_000);
    float[] expected = OrtHarness.run(inline, OrtHarness.tokenBatch(), Map.of()).get("last_hidden_state").data();
    float[] viaInline = OrtHarness.run(ExternalData.inline(loaded), OrtHarness.tokenBatch(), Map.of()).get("last_hidden_state").data();
    assertArrayEquals(expected, viaInline);
    // ONNX Runtime itself resolves the weights file relative to the model path.
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        OrtSession s = OrtHarness.ENV.createSession(externalModel.toString(), o)) {
      assertEquals(3, s.getNumInputs());
    }
  }

  @Test
  void variantsOfAnExternalModelEqualThoseOfTheInlineModel() throws Exception {
    OnnxModel ext = ModelIO.load(externalModel);
    EncoderLayout layout = LayoutDetector.detect(ext);
    assertEquals(6, layout.layers());
    Path out = tmp.resolve("v.onnx");
    VariantWriter.create(ext, layout, "sha", Optional.empty()).write(new SkipSpan(2, 3), out);
    OnnxModel written = ModelIO.load(out);
    assertTrue(!ExternalData.hasExternal(written.proto()), "a single-file variant inlines its weights");
    OnnxModel fromInline = SkipRewriter.variant(inline, LayoutDetector.detect(inline), new SkipSpan(2, 3), "sha");
    assertArrayEquals(
        OrtHarness.run(fromInline, OrtHarness.tokenBatch(), Map.of()).get("last_hidden_state").data(),
        OrtHarness.run(written, OrtHarness.tokenBatch(), Map.of()).get("last_hidden_state").data());
  }

  @Test
  void missingOrShortWeightsFileIsNamed() throws Exception {
    Path dir = tmp.resolve("broken");
    Files.createDirectories(dir);
    Path model = dir.resolve("model.onnx");
    Files.copy(externalModel, model);
    OnnxSkipException missing = assertThrows(OnnxSkipException.class, () -> ModelIO.load(model));
    assertTrue(missing.getMessage().contains("model.onnx.data") && missing.getMessage().contains("is missing"), missing.getMessage());

    Path data = dir.resolve("model.onnx.data");
    Files.copy(externalModel.resolveSibling("model.onnx.data"), data);
    try (FileChannel ch = FileChannel.open(data, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() / 2);
    }
    OnnxSkipException shortFile = assertThrows(OnnxSkipException.class, () -> ModelIO.load(model));
    assertTrue(shortFile.getMessage().contains("too short for tensor"), shortFile.getMessage());
  }
}
