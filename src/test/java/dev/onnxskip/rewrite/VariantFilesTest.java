package dev.onnxskip.rewrite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.Digests;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.testing.SyntheticBert;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A rewrite's files are written all or nothing, and the manifest describes the files as they are on disk. */
class VariantFilesTest {

  private static final SyntheticBert.Spec SPEC = SyntheticBert.Spec.tiny(3);

  private static Path source(Path dir) throws IOException {
    Path file = dir.resolve("model.onnx");
    ModelIO.save(SyntheticBert.build(SPEC), file);
    return file;
  }

  @Test
  void aFolderOfVariantsIsListedInItsManifestWithEachFilesDigest(@TempDir Path tmp) throws IOException {
    Path file = source(tmp);
    OnnxModel model = ModelIO.load(file);
    EncoderLayout layout = LayoutDetector.detect(model, List.of());
    List<SkipSpan> spans = SkipSpans.parse("0-0,1-2", layout.layers());
    Path dir = tmp.resolve("a/b/variants");
    VariantFiles files = VariantFiles.folder(spans, layout.layers(), dir, file, true);
    assertEquals(List.of(dir.resolve("skip-0-0.onnx"), dir.resolve("skip-1-2.onnx"), dir.resolve("model.weights"),
        dir.resolve("manifest.json")), files.outputs());
    List<Path> heard = new ArrayList<>();
    VariantFiles.Result result = files.write(model, layout, file, true, w -> heard.add(w.file()));
    assertEquals(List.of(dir.resolve("skip-0-0.onnx"), dir.resolve("skip-1-2.onnx")), heard);
    JsonNode manifest = new ObjectMapper().readTree(dir.resolve("manifest.json").toFile());
    assertEquals(Digests.sha256(file), manifest.get("source_sha256").asText());
    assertEquals("model.weights", manifest.get("weights").asText());
    for (int i = 0; i < 2; i++) {
      JsonNode v = manifest.get("variants").get(i);
      Path variant = dir.resolve(v.get("file").asText());
      assertEquals(Digests.sha256(variant), v.get("sha256").asText());
      assertEquals(Files.size(variant), v.get("bytes").asLong());
      assertEquals(spans.get(i).start(), v.get("span").get(0).asInt());
      assertEquals(ModelIO.load(variant).proto().getGraph().getNodeCount(), v.get("nodes").asInt());
    }
    assertEquals(2, result.written().size());
  }

  /**
   * A failure half-way takes back every file of the run and the folders it created, but not the
   * folder that was there before, nor what it held.
   */
  @Test
  void aFailureHalfWayLeavesNothingOfTheRun(@TempDir Path tmp) throws IOException {
    Path file = source(tmp);
    OnnxModel model = ModelIO.load(file);
    EncoderLayout layout = LayoutDetector.detect(model, List.of());
    Path dir = tmp.resolve("new/variants");
    Files.createDirectories(dir.resolve("skip-2-2.onnx")); // the third variant's file cannot be written
    Files.writeString(tmp.resolve("new/kept.txt"), "kept\n");
    VariantFiles files = VariantFiles.folder(SkipSpans.parse("0-0,1-1,2-2", layout.layers()), layout.layers(), dir, file, true);
    List<Path> heard = new ArrayList<>();
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> files.write(model, layout, file, false, w -> heard.add(w.file())));
    assertTrue(e.getMessage().startsWith("cannot write " + dir.resolve("skip-2-2.onnx")), e.getMessage());
    assertEquals(2, heard.size(), "the first two were written before the failure");
    try (Stream<Path> left = Files.walk(tmp.resolve("new"))) {
      assertEquals(List.of("new", "new/kept.txt", "new/variants", "new/variants/skip-2-2.onnx"),
          left.map(p -> tmp.relativize(p).toString()).sorted().toList());
    }
  }

  /** Folders the run created are removed again; the nearest one that was there stays. */
  @Test
  void aRunInFreshFoldersRemovesThemWhenItFails(@TempDir Path tmp) throws IOException {
    Path file = source(tmp);
    OnnxModel model = ModelIO.load(file);
    EncoderLayout layout = LayoutDetector.detect(model, List.of());
    Path dir = tmp.resolve("fresh/variants");
    Path blocker = Files.writeString(tmp.resolve("blocker.txt"), "x\n");
    VariantFiles files = new VariantFiles(SkipSpans.parse("0-0,1-1", layout.layers()),
        List.of(dir.resolve("first.onnx"), blocker.resolve("second.onnx")), Optional.of(dir.resolve("w.weights")),
        Optional.of(dir));
    assertThrows(OnnxSkipException.class, () -> files.write(model, layout, file, false, w -> {}));
    assertFalse(Files.exists(tmp.resolve("fresh")), "no folder of the failed run is left");
    assertEquals("x\n", Files.readString(blocker));
  }

  @Test
  void aFileWhereAFolderIsNeededIsNamed(@TempDir Path tmp) throws IOException {
    Path blocker = Files.writeString(tmp.resolve("blocker.txt"), "x\n");
    OnnxSkipException e = assertThrows(OnnxSkipException.class,
        () -> VariantFiles.nearestExistingFolder(blocker.resolve("sub"), blocker.resolve("sub/v.onnx")));
    assertEquals("cannot write " + blocker.resolve("sub/v.onnx") + ": " + blocker + " is not a folder", e.getMessage());
  }
}
