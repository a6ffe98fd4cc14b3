package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.data.SyntheticData;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code onnx-skip compare} on two eval runs of differently seeded synthetic models over the same data:
 * the numbers it prints and writes are B − A of what the two results.json files hold, read here as
 * plain JSON.
 */
class CompareCommandTest {
  static final Spec SPEC = Spec.tiny(3).withHead(Head.MEAN_POOL_CLASSIFIER, 2);
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  static Path runA;
  static Path runB;
  static Path runOther;

  @BeforeAll
  static void evaluate() throws IOException {
    Path tokenizer = WordTokenizer.numbered(SPEC.vocab(), true).write(dir.resolve("tokenizer.json"));
    Path data = Files.writeString(dir.resolve("data.jsonl"),
        SyntheticData.jsonLines(SyntheticData.texts(24, SPEC.vocab(), 3), "neg", "pos"));
    Path other = Files.writeString(dir.resolve("other.jsonl"),
        SyntheticData.jsonLines(SyntheticData.texts(24, SPEC.vocab(), 4), "neg", "pos"));
    Path modelA = dir.resolve("a.onnx");
    ModelIO.save(SyntheticBert.build(SPEC.withSeed(1)), modelA);
    Path modelB = dir.resolve("b.onnx");
    ModelIO.save(SyntheticBert.build(SPEC.withSeed(2)), modelB);
    runA = eval(modelA, tokenizer, data, "0-0,1-1", "a");
    runB = eval(modelB, tokenizer, data, "0-0,0-1", "b");
    runOther = eval(modelA, tokenizer, other, "0-0", "other");
  }

  private static Path eval(Path model, Path tokenizer, Path data, String spans, String name) {
    Path out = dir.resolve(name);
    CliRun run = CliRun.of("eval", "--model", model.toString(), "--tokenizer", tokenizer.toString(), "--data",
        data.toString(), "--labels", "neg,pos", "--spans", spans, "--quiet", "--out", out.toString());
    assertEquals(0, run.exit(), run.err());
    return out;
  }

  private static JsonNode results(Path run) throws IOException {
    return JSON.readTree(run.resolve("results.json").toFile());
  }

  /** The variant of a results.json with the given span ("null" for the baseline, "[0,0]" for 0-0). */
  private static JsonNode variant(JsonNode results, String span) {
    for (JsonNode v : results.get("variants")) {
      if (v.get("span").toString().equals(span)) {
        return v;
      }
    }
    throw new AssertionError("no variant " + span);
  }

  private static String fixed(double value) {
    return String.format(Locale.ROOT, "%.3f", value);
  }

  @Test
  void printsBothRunsSideBySideWithTheChange() throws IOException {
    CliRun run = CliRun.of("compare", runA.toString(), runB.toString());
    assertEquals(0, run.exit(), run.err());
    assertEquals("", run.err());
    JsonNode a = results(runA);
    JsonNode b = results(runB);
    List<String> lines = run.out().lines().toList();
    assertEquals("A: " + runA.resolve("results.json"), lines.get(0));
    assertEquals("B: " + runB.resolve("results.json"), lines.get(1));

    for (String[] v : new String[][] {{"baseline", "null"}, {"0-0", "[0,0]"}}) {
      JsonNode va = variant(a, v[1]);
      JsonNode vb = variant(b, v[1]);
      double accA = va.get("accuracy").asDouble();
      double accB = vb.get("accuracy").asDouble();
      assertTrue(lines.contains("| " + v[0] + " | (all) | accuracy | " + fixed(accA) + " | " + fixed(accB) + " | "
          + String.format(Locale.ROOT, "%+.3f", accB - accA) + " |"), v[0] + " overall:\n" + run.out());
      double f1A = va.get("macro_f1").asDouble();
      double f1B = vb.get("macro_f1").asDouble();
      assertTrue(lines.contains("| " + v[0] + " | (all) | macro-F1 | " + fixed(f1A) + " | " + fixed(f1B) + " | "
          + String.format(Locale.ROOT, "%+.3f", f1B - f1A) + " |"), v[0] + " macro-F1:\n" + run.out());
      for (String label : List.of("neg", "pos")) {
        double la = va.get("per_label").get(label).asDouble();
        double lb = vb.get("per_label").get(label).asDouble();
        assertTrue(lines.contains("| " + v[0] + " | " + label + " | accuracy | " + fixed(la) + " | " + fixed(lb) + " | "
            + String.format(Locale.ROOT, "%+.3f", lb - la) + " |"), v[0] + " " + label + ":\n" + run.out());
      }
    }
    // 0-1 only in B, 1-1 only in A; in span order after the baseline.
    double onlyB = variant(b, "[0,1]").get("accuracy").asDouble();
    assertTrue(lines.contains("| 0-1 | (all) | accuracy | missing | " + fixed(onlyB) + " |  |"), run.out());
    double onlyA = variant(a, "[1,1]").get("per_label").get("pos").asDouble();
    assertTrue(lines.contains("| 1-1 | pos | accuracy | " + fixed(onlyA) + " | missing |  |"), run.out());
    List<String> order = lines.stream().filter(l -> l.matches("\\| [^ ]+ \\| \\(all\\) \\| accuracy .*"))
        .map(l -> l.split(" ")[1]).toList();
    assertEquals(List.of("baseline", "0-0", "0-1", "1-1"), order);
  }

  @Test
  void writesCsvAndJsonWithTheSameNumbers(@TempDir Path out) throws IOException {
    Path csv = out.resolve("cmp.csv");
    Path json = out.resolve("cmp.json");
    CliRun run = CliRun.of("compare", runA.resolve("results.json").toString(), runB.toString(), "--csv", csv.toString(),
        "--json", json.toString());
    assertEquals(0, run.exit(), run.err());
    try (Stream<Path> files = Files.list(out)) {
      assertEquals(List.of("cmp.csv", "cmp.json"), files.map(p -> p.getFileName().toString()).sorted().toList(),
          "nothing but the two files, no temporary left behind");
    }

    double negA = variant(results(runA), "[0,0]").get("per_label").get("neg").asDouble();
    double negB = variant(results(runB), "[0,0]").get("per_label").get("neg").asDouble();
    List<CSVRecord> rows;
    try (Reader in = Files.newBufferedReader(csv)) {
      rows = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(in).getRecords();
    }
    // 4 variants, each accuracy, macro-F1 and 2 labels.
    assertEquals(16, rows.size());
    CSVRecord neg = rows.stream().filter(r -> r.get("variant").equals("0-0") && r.get("label").equals("neg")).findFirst()
        .orElseThrow();
    assertEquals("0", neg.get("span_start"));
    assertEquals("accuracy", neg.get("score"));
    assertEquals(negA, Double.parseDouble(neg.get("a")));
    assertEquals(negB, Double.parseDouble(neg.get("b")));
    assertEquals(negB - negA, Double.parseDouble(neg.get("change")), 1e-15);
    assertEquals("both", neg.get("present"));
    CSVRecord missing = rows.stream().filter(r -> r.get("variant").equals("1-1") && r.get("score").equals("macro_f1"))
        .findFirst().orElseThrow();
    assertEquals(List.of("", "", "a"), List.of(missing.get("b"), missing.get("change"), missing.get("present")));
    assertTrue(Files.readString(csv).startsWith("variant,span_start,span_end,label,score,a,b,change,present\n"
        + "baseline,,,,accuracy,"), "absent values are empty, unquoted: " + Files.readString(csv));

    JsonNode cmp = JSON.readTree(json.toFile());
    assertEquals(results(runA).get("provenance").get("dataset_sha256"), cmp.get("a").get("dataset_sha256"));
    assertEquals(16, cmp.get("rows").size());
    JsonNode onlyB = cmp.get("rows").get(8);
    assertEquals("0-1", onlyB.get("variant").asText());
    assertEquals("[0,1]", onlyB.get("span").toString());
    assertTrue(onlyB.get("a").isNull() && onlyB.get("change").isNull());
    assertEquals(variant(results(runB), "[0,1]").get("accuracy").asDouble(), onlyB.get("b").asDouble());
    assertEquals("b", onlyB.get("present").asText());
  }

  @Test
  void differentDataIsRefusedUnlessAllowed() throws IOException {
    CliRun run = CliRun.of("compare", runA.toString(), runOther.toString());
    assertEquals(2, run.exit(), run.err());
    assertTrue(run.oneLineError(), run.err());
    String digestA = results(runA).get("provenance").get("dataset_sha256").asText();
    String digestOther = results(runOther).get("provenance").get("dataset_sha256").asText();
    assertEquals("onnx-skip: the runs used different data: dataset_sha256 " + digestA + " in " + runA.resolve("results.json")
        + ", " + digestOther + " in " + runOther.resolve("results.json") + "; use --allow-different-data to compare anyway",
        run.err().strip());
    assertEquals("", run.out());

    CliRun allowed = CliRun.of("compare", runA.toString(), runOther.toString(), "--allow-different-data");
    assertEquals(0, allowed.exit(), allowed.err());
    assertTrue(allowed.out().contains("Different data: dataset_sha256 " + digestA + " in A, " + digestOther + " in B."),
        allowed.out());
  }

  @Test
  void badInputIsOneLineNamingTheFile(@TempDir Path tmp) throws IOException {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    expectError(1, "onnx-skip: cannot read " + empty.resolve("results.json") + ": no such file",
        "compare", runA.toString(), empty.toString());

    Path broken = Files.createDirectories(tmp.resolve("broken"));
    Files.writeString(broken.resolve("results.json"), "{\"labels\": [\"neg\", ");
    String err = expectError(1, null, "compare", broken.toString(), runB.toString());
    assertTrue(err.startsWith("onnx-skip: cannot read " + broken.resolve("results.json") + ": not valid JSON at line 1"),
        err);

    Path partial = Files.createDirectories(tmp.resolve("partial"));
    Files.writeString(partial.resolve("results.json"), "{\"labels\": [\"neg\"], \"layers\": 3}");
    expectError(1, "onnx-skip: " + partial.resolve("results.json") + ": missing field \"variants\"",
        "compare", runA.toString(), partial.toString());

    Path taken = Files.writeString(tmp.resolve("taken.csv"), "mine");
    expectError(2, "onnx-skip: " + taken + " exists; use --force to overwrite it",
        "compare", runA.toString(), runB.toString(), "--csv", taken.toString());
    assertEquals("mine", Files.readString(taken));
    expectError(2, "onnx-skip: " + runA.resolve("results.json") + " is one of the runs being compared; name another output file",
        "compare", runA.toString(), runB.toString(), "--json", runA.resolve("results.json").toString(), "--force");
    assertEquals(0, CliRun.of("compare", runA.toString(), runB.toString(), "--csv", taken.toString(), "--force").exit());
    assertTrue(Files.readString(taken).startsWith("variant,"));

    CliRun oneRun = CliRun.of("compare", runA.toString());
    assertEquals(2, oneRun.exit());
    assertTrue(oneRun.oneLineError() && oneRun.err().contains("RUN_B"), oneRun.err());
  }

  /** Runs the command expecting {@code exit} and one stderr line equal to {@code message} (unless null); returns it. */
  private static String expectError(int exit, String message, String... args) {
    CliRun run = CliRun.of(args);
    assertEquals(exit, run.exit(), run.err());
    assertTrue(run.oneLineError(), "one line: " + run.err());
    if (message != null) {
      assertEquals(message, run.err().strip());
    }
    assertFalse(run.out().contains("| variant |"), "no table after an error");
    return run.err().strip();
  }

  @Test
  void listedInTheHelp() {
    CliRun help = CliRun.of("--help");
    assertTrue(help.out().contains("compare"), help.out());
    List<String> options = new ArrayList<>();
    CliRun own = CliRun.of("compare", "--help");
    for (String option : List.of("--csv", "--json", "--allow-different-data", "--force")) {
      if (!own.out().contains(option)) {
        options.add(option);
      }
    }
    assertEquals(List.of(), options, own.out());
  }
}
