package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.onnxskip.data.SyntheticData;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An eval that fails before finishing any work leaves nothing behind: no journal, and no output
 * folder where it made one; and a model file over protobuf's 2 GB limit is refused before anything
 * is read, saying how to re-export it.
 */
class EvalLeftoversTest {

  static final WordTokenizer WORDS = WordTokenizer.numbered(64, true);

  @TempDir static Path dir;
  static Path tokenizer;
  static Path data;
  /** A classifier that loads and whose encoder is found, but that ONNX Runtime refuses: it imports opset 99. */
  static Path unloadable;

  @BeforeAll
  static void write() throws IOException {
    ModelProto model = SyntheticBert.build(Spec.tiny(2).withHead(Head.MEAN_POOL_CLASSIFIER, 2));
    ModelProto future = model.toBuilder().setOpsetImport(0, model.getOpsetImport(0).toBuilder().setVersion(99)).build();
    unloadable = dir.resolve("opset99.onnx");
    ModelIO.save(future, unloadable);
    tokenizer = WORDS.write(dir.resolve("tokenizer.json"));
    data = Files.writeString(dir.resolve("data.jsonl"), SyntheticData.jsonLines(SyntheticData.texts(8, 64, 3), "0", "1"));
  }

  private static CliRun eval(Path model, Path out, String engine) {
    return CliRun.of("eval", "--model", model.toString(), "--tokenizer", tokenizer.toString(), "--data", data.toString(),
        "--spans", "0-0", "--engine", engine, "--quiet", "--out", out.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"naive", "shared"})
  void aRunThatFailsBeforeAnyWorkRemovesTheFolderItMade(String engine, @TempDir Path tmp) {
    Path out = tmp.resolve("runs").resolve("first");
    CliRun run = eval(unloadable, out, engine);
    assertEquals(1, run.exit(), run.err());
    assertTrue(run.oneLineError() && run.err().contains("opset"), run.err());
    assertTrue(Files.notExists(tmp.resolve("runs")), "no folder left: " + run.err());
  }

  @ParameterizedTest
  @ValueSource(strings = {"naive", "shared"})
  void aRunThatFailsBeforeAnyWorkLeavesAGivenFolderAsItWas(String engine, @TempDir Path out) throws IOException {
    Path kept = Files.writeString(out.resolve("notes.txt"), "mine");
    CliRun run = eval(unloadable, out, engine);
    assertEquals(1, run.exit(), run.err());
    try (Stream<Path> left = Files.list(out)) {
      assertEquals(List.of(kept), left.toList(), "no journal, no lock");
    }
  }

  @Test
  void aModelFileOver2GbIsRefusedUpFrontSayingHowToReExportIt(@TempDir Path tmp) throws IOException {
    Path model = Files.copy(unloadable, tmp.resolve("inline.onnx"));
    try (FileChannel ch = FileChannel.open(model, StandardOpenOption.WRITE)) {
      // Sparse: one byte past protobuf's limit costs no disk.
      ch.write(ByteBuffer.wrap(new byte[] {0}), Integer.MAX_VALUE);
    }
    String expected = "onnx-skip: " + model + ": 2048 MiB in one file, over protobuf's 2 GB limit for a model's graph; re-export it with its"
        + " weights in external data: torch.onnx.export(..., external_data=True) (torch 2.5 and later; use_external_data_format=True"
        + " before), optimum-cli export onnx (writes model.onnx_data for models over 2 GB by itself), or onnx.save_model(model, path,"
        + " save_as_external_data=True)";
    for (CliRun run : List.of(CliRun.of("inspect", model.toString()),
        CliRun.of("rewrite", model.toString(), "--span", "0-0", "-o", tmp.resolve("v.onnx").toString()),
        eval(model, tmp.resolve("out"), "shared"))) {
      assertEquals(1, run.exit(), run.err());
      assertEquals(expected, run.err().strip());
    }
    try (Stream<Path> left = Files.list(tmp)) {
      assertEquals(List.of(model), left.toList(), "nothing written");
    }
  }
}
