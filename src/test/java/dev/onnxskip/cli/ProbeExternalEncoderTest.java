package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.onnxskip.data.SyntheticData;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * probe on an encoder whose weights live in an external-data file, as exporters write models over
 * 2 GB: the classifier it writes in another folder carries its weights in a file of its own, and
 * evaluates once the encoder's folder is gone.
 */
class ProbeExternalEncoderTest {

  /** {@code model} saved at {@code file} with every initializer's bytes in {@code file}.data. */
  static Path externalized(ModelProto model, Path file) throws IOException {
    String location = file.getFileName() + ".data";
    GraphProto.Builder g = model.getGraph().toBuilder();
    try (OutputStream out = Files.newOutputStream(file.resolveSibling(location))) {
      long offset = 0;
      for (int i = 0; i < g.getInitializerCount(); i++) {
        TensorProto t = g.getInitializer(i);
        t.getRawData().writeTo(out);
        g.setInitializer(i, ExternalData.pointingTo(t, new ExternalData.Ref(location, offset, t.getRawData().size())));
        offset += t.getRawData().size();
      }
    }
    ModelIO.save(model.toBuilder().setGraph(g).build(), file);
    return file;
  }

  @Test
  void theClassifierWrittenElsewhereHasItsOwnWeightsFile(@TempDir Path tmp) throws IOException {
    Path encoderDir = Files.createDirectory(tmp.resolve("encoder"));
    Path encoder = externalized(SyntheticBert.build(Spec.tiny(2)), encoderDir.resolve("model.onnx"));
    Path tokenizer = WordTokenizer.numbered(64, true).write(tmp.resolve("tokenizer.json"));
    Path train = Files.writeString(tmp.resolve("train.jsonl"), SyntheticData.jsonLines(SyntheticData.texts(24, 64, 5), "a", "b"));
    Path classifier = Files.createDirectory(tmp.resolve("elsewhere")).resolve("classifier.onnx");

    CliRun probe = CliRun.of("probe", "--model", encoder.toString(), "--tokenizer", tokenizer.toString(), "--train", train.toString(),
        "--max-length", "16", "-o", classifier.toString());
    assertEquals(0, probe.exit(), probe.err());
    assertTrue(Files.size(classifier.resolveSibling("classifier.onnx.data")) > 0, "the classifier's own weights file");
    try (Stream<Path> files = Files.walk(encoderDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }

    CliRun eval = CliRun.of("eval", "--model", classifier.toString(), "--tokenizer", tokenizer.toString(), "--data", train.toString(),
        "--spans", "0-0", "--quiet", "--out", tmp.resolve("eval").toString());
    assertEquals(0, eval.exit(), eval.err());
  }
}
