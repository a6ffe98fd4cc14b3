package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.ToolVersion;
import dev.onnxskip.data.SyntheticData;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.runtime.OrtRuntime;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Spec;
import dev.onnxskip.testing.SyntheticBert;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code eval} end to end against files kept under {@code src/test/resources/golden/}: results.json
 * (timestamp blanked), results.csv, the printed summary and the journal's entries without their logits, byte for byte. A change to the code that
 * changes any of them, however it is meant, shows up here.
 *
 * <p>What depends on the machine, not on the run, is replaced before comparing: the temporary
 * folder's path by {@code <dir>}, the tool's and ONNX Runtime's versions by {@code <version>} and
 * {@code <ort-version>}, the run time by {@code <seconds>}. Run with {@code -Dgolden.update=true} to
 * write the files anew from the current code, after checking that the change is meant.
 */
class GoldenOutputsTest {

  static final Spec SPEC = Spec.tiny(3).withHead(Head.MEAN_POOL_CLASSIFIER, 3).withSeed(4);
  static final Path GOLDEN = Path.of("src/test/resources/golden");
  static final ObjectMapper JSON = new ObjectMapper();
  static final boolean UPDATE = Boolean.getBoolean("golden.update");

  @TempDir static Path dir;
  static Path model;
  static Path tokenizer;
  static Path data;

  @BeforeAll
  static void write() throws IOException {
    model = dir.resolve("model.onnx");
    ModelIO.save(SyntheticBert.build(SPEC), model);
    tokenizer = WordTokenizer.numbered(SPEC.vocab(), true).write(dir.resolve("tokenizer.json"));
    data = Files.writeString(dir.resolve("data.jsonl"),
        SyntheticData.jsonLines(SyntheticData.texts(24, SPEC.vocab(), 7), "neg", "pos", "meh"));
  }

  /**
   * Both engines on the same settings write the same files: the engine is not part of the results.
   * The spans are given out of order in one case, as a user may, and reported in layer order.
   */
  @ParameterizedTest(name = "{0} {1} {2}")
  @CsvSource(delimiter = ';', value = {
      "all; shared; --max-length=12",
      "all; naive; --max-length=12",
      "2-2,0-1; shared; --no-sort",
      "2-2,0-1; naive; --no-sort",
  })
  void evalWritesTheKeptResults(String spans, String engine, String extra) throws IOException {
    String name = "eval-" + (spans.equals("all") ? "all" : "listed");
    Path out = dir.resolve(name + "-" + engine);
    List<String> args = new ArrayList<>(List.of("eval", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
        "--data", data.toString(), "--spans", spans, "--engine", engine, "--batch-size", "8", "--threads", "1", "--labels", "neg,pos,meh", "--quiet",
        "--out", out.toString()));
    args.add(extra);
    String printed = EvalCli.ok(args.toArray(String[]::new));

    compareResults(name + "/results.json", EvalOutputs.resultsWithoutTimestamp(out));
    compareCsv(name + "/results.csv", Files.readString(out.resolve("results.csv")));
    compare(name + "/journal-" + engine + ".txt", journalWithoutLogits(out));
    compare(name + "/printed.txt", printed.replace(out.toString(), "<out>").replaceAll(" in [0-9.]+ s\\.", " in <seconds> s.")
        .replaceAll("(?m)^Time: .*$", "Time: <seconds by phase>."));
  }

  /**
   * The journal's lines after the header, each as its span and rows: which work was journaled in
   * which order and under which name. The logits, floats from the runtime, and the header's run
   * key, a digest of the settings, are left out.
   */
  private static String journalWithoutLogits(Path out) throws IOException {
    StringBuilder text = new StringBuilder();
    List<String> lines = Files.readAllLines(out.resolve(Journal.FILE));
    for (String line : lines.subList(1, lines.size())) {
      JsonNode entry = JSON.readTree(line);
      text.append("span ").append(entry.get("span")).append(" rows ").append(entry.get("rows")).append('\n');
    }
    return text.toString();
  }

  /**
   * As {@link #compare}, but the layer metrics, computed from each engine's float states, need only
   * agree within 1e-5: the kept file holds one engine's.
   */
  private static void compareResults(String golden, String actual) throws IOException {
    Path file = GOLDEN.resolve(golden);
    String normal = normalised(actual);
    if (UPDATE) {
      Files.createDirectories(file.getParent());
      Files.writeString(file, normal);
    }
    EvalOutputs.assertSameResults(Files.readString(file), normal, 1e-5);
  }

  /** As {@link #compare}, but the layer-metric columns need only agree within 1e-5, as in {@link #compareResults}. */
  private static void compareCsv(String golden, String actual) throws IOException {
    Path file = GOLDEN.resolve(golden);
    if (UPDATE) {
      Files.createDirectories(file.getParent());
      Files.writeString(file, actual);
    }
    List<CSVRecord> kept = CSVFormat.RFC4180.parse(new StringReader(Files.readString(file))).getRecords();
    List<CSVRecord> fresh = CSVFormat.RFC4180.parse(new StringReader(actual)).getRecords();
    assertEquals(kept.size(), fresh.size(), golden);
    List<String> header = kept.get(0).toList();
    int firstMetric = header.indexOf("angular_distance");
    assertEquals(header, fresh.get(0).toList(), golden);
    for (int r = 1; r < kept.size(); r++) {
      for (int c = 0; c < header.size(); c++) {
        String want = kept.get(r).get(c);
        String got = fresh.get(r).get(c);
        if (c >= firstMetric && !want.isEmpty() && !got.isEmpty()) {
          assertEquals(Double.parseDouble(want), Double.parseDouble(got), 1e-5, golden + " row " + r + " " + header.get(c));
        } else {
          assertEquals(want, got, golden + " row " + r + " " + header.get(c));
        }
      }
    }
  }

  /** Fails unless {@code actual}, with the machine's parts replaced, is the kept file's text. */
  private static void compare(String golden, String actual) throws IOException {
    String normal = normalised(actual);
    Path file = GOLDEN.resolve(golden);
    if (UPDATE) {
      Files.createDirectories(file.getParent());
      Files.writeString(file, normal);
    }
    assertEquals(Files.readString(file), normal, golden);
  }

  private static String normalised(String actual) {
    String normal = actual
        .replace(dir.toString(), "<dir>")
        .replace("\"onnx-skip " + ToolVersion.get() + "\"", "\"onnx-skip <version>\"")
        .replace("\"onnx_skip_version\": \"" + ToolVersion.get() + "\"", "\"onnx_skip_version\": \"<version>\"")
        .replace("\"onnxruntime_version\": \"" + OrtRuntime.ortVersion() + "\"", "\"onnxruntime_version\": \"<ort-version>\"");
    assertTrue(!normal.contains(dir.toString()), "every path is replaced");
    return normal;
  }
}
