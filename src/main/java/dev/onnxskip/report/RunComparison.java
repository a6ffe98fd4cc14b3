package dev.onnxskip.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.onnxskip.AtomicFiles;
import dev.onnxskip.eval.LabelScore;
import dev.onnxskip.eval.Metrics;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.VariantResult;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.Variant;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * Two {@code eval} runs side by side, A and B: per variant its overall accuracy and macro-F1, then
 * its accuracy on each gold label, with the change B − A. Variants and labels are matched by name; one
 * that only one run has is listed with the other side missing. Variants come baseline first, then in
 * span order; labels in A's order, then those only B has.
 *
 * @param a where run A was read from, as given
 * @param b where run B was read from
 */
public record RunComparison(Path a, Path b, RunResults runA, RunResults runB, List<Row> rows) {

  public static final List<String> CSV_HEADER = List.of("variant", "span_start", "span_end", "label", "score", "a", "b",
      "change", "present");

  /** Which runs hold a row's variant and label. */
  public enum Present {
    BOTH, A, B;

    String text() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** What a row measures: the variant's overall scores, or its accuracy on one gold label. */
  public enum Score {
    ACCURACY("accuracy"), MACRO_F1("macro_f1");

    final String key;

    Score(String key) {
      this.key = key;
    }
  }

  /**
   * One comparison.
   *
   * @param label the gold label, or null for the variant's overall scores
   * @param valueA A's score; NaN when A lacks the variant or label, or the score is undefined there
   * @param valueB B's score, likewise
   */
  public record Row(Variant variant, String label, Score score, double valueA, double valueB, Present present) {
    public Row {
      Objects.requireNonNull(variant, "variant");
      Objects.requireNonNull(score, "score");
      Objects.requireNonNull(present, "present");
    }

    /** B − A; NaN when either side is missing or undefined. */
    public double change() {
      return valueB - valueA;
    }
  }

  public RunComparison {
    rows = List.copyOf(rows);
  }

  public static RunComparison of(Path a, RunResults runA, Path b, RunResults runB) {
    Set<Variant> variants = new LinkedHashSet<>();
    variants.add(Variant.BASELINE);
    Set<SkipSpan> spans = new TreeSet<>();
    runA.spans().forEach(v -> spans.add(v.span()));
    runB.spans().forEach(v -> spans.add(v.span()));
    variants.addAll(spans);
    Set<String> labels = new LinkedHashSet<>(runA.labels());
    labels.addAll(runB.labels());

    List<Row> rows = new ArrayList<>();
    for (Variant variant : variants) {
      Optional<Metrics> ma = metrics(runA, variant);
      Optional<Metrics> mb = metrics(runB, variant);
      rows.add(row(variant, null, Score.ACCURACY, ma.map(Metrics::accuracy), mb.map(Metrics::accuracy)));
      rows.add(row(variant, null, Score.MACRO_F1, ma.map(Metrics::macroF1), mb.map(Metrics::macroF1)));
      for (String label : labels) {
        rows.add(row(variant, label, Score.ACCURACY, ma.flatMap(m -> labelAccuracy(m, label)),
            mb.flatMap(m -> labelAccuracy(m, label))));
      }
    }
    return new RunComparison(a, b, runA, runB, rows);
  }

  private static Row row(Variant variant, String label, Score score, Optional<Double> a, Optional<Double> b) {
    Present present = a.isPresent() && b.isPresent() ? Present.BOTH : a.isPresent() ? Present.A : Present.B;
    return new Row(variant, label, score, a.orElse(Double.NaN), b.orElse(Double.NaN), present);
  }

  private static Optional<Metrics> metrics(RunResults run, Variant variant) {
    if (variant instanceof SkipSpan span) {
      return run.variant(span).map(VariantResult::metrics);
    }
    return Optional.of(run.baseline().metrics());
  }

  private static Optional<Double> labelAccuracy(Metrics m, String label) {
    return m.perLabel().stream().filter(s -> s.label().equals(label)).findFirst().map(LabelScore::accuracy);
  }

  /** The comparison as a Markdown table, with a line naming both runs above it. */
  public String markdown() {
    StringBuilder md = new StringBuilder();
    md.append("A: ").append(a).append('\n').append("B: ").append(b).append('\n');
    Object dataA = runA.provenance().get("dataset_sha256");
    Object dataB = runB.provenance().get("dataset_sha256");
    if (!Objects.equals(dataA, dataB)) {
      md.append("Different data: dataset_sha256 ").append(dataA).append(" in A, ").append(dataB).append(" in B.\n");
    }
    md.append("\n| variant | label | score | A | B | B \u2212 A |\n|:--|:--|:--|--:|--:|--:|\n");
    for (Row r : rows) {
      md.append("| ").append(r.variant().name())
          .append(" | ").append(r.label() == null ? "(all)" : r.label().replace("|", "\\|"))
          .append(" | ").append(r.score() == Score.MACRO_F1 ? "macro-F1" : "accuracy")
          .append(" | ").append(r.present() == Present.B ? "missing" : fixed(r.valueA()))
          .append(" | ").append(r.present() == Present.A ? "missing" : fixed(r.valueB()))
          .append(" | ").append(r.present() != Present.BOTH || Double.isNaN(r.change()) ? ""
              : String.format(Locale.ROOT, "%+.3f", r.change()))
          .append(" |\n");
    }
    return md.toString();
  }

  /** Writes the rows as CSV ({@link #CSV_HEADER}; absent values empty, doubles in full), atomically. */
  public void writeCsv(Path file) {
    AtomicFiles.writeString(file, csv());
  }

  String csv() {
    CSVFormat format = CSVFormat.RFC4180.builder().setHeader(CSV_HEADER.toArray(String[]::new))
        .setRecordSeparator('\n').setNullString("").get();
    StringWriter text = new StringWriter();
    try (CSVPrinter csv = new CSVPrinter(text, format)) {
      for (Row r : rows) {
        SkipSpan span = r.variant() instanceof SkipSpan s ? s : null;
        csv.printRecord(r.variant().name(), span == null ? null : span.start(), span == null ? null : span.end(),
            r.label(), r.score().key, number(r.valueA()), number(r.valueB()), number(r.change()), r.present().text());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return text.toString();
  }

  /**
   * Writes {@code {"a": {"path", "dataset_sha256"}, "b": {...}, "rows": [{"variant", "span", "label",
   * "score", "a", "b", "change", "present"}]}} atomically; absent values are null.
   */
  public void writeJson(Path file) {
    AtomicFiles.writeString(file, json());
  }

  String json() {
    ObjectNode root = ResultsJson.MAPPER.createObjectNode();
    side(root.putObject("a"), a, runA);
    side(root.putObject("b"), b, runB);
    ArrayNode list = root.putArray("rows");
    for (Row r : rows) {
      ObjectNode node = list.addObject();
      node.put("variant", r.variant().name());
      if (r.variant() instanceof SkipSpan s) {
        node.putArray("span").add(s.start()).add(s.end());
      } else {
        node.putNull("span");
      }
      node.put("label", r.label());
      node.put("score", r.score().key);
      putDouble(node, "a", r.valueA());
      putDouble(node, "b", r.valueB());
      putDouble(node, "change", r.change());
      node.put("present", r.present().text());
    }
    try {
      return ResultsJson.WRITER.writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree that cannot be written", e);
    }
  }

  private static void side(ObjectNode node, Path path, RunResults run) {
    node.put("path", path.toString());
    Object digest = run.provenance().get("dataset_sha256");
    node.put("dataset_sha256", digest == null ? null : digest.toString());
  }

  private static void putDouble(ObjectNode node, String field, double value) {
    if (Double.isNaN(value)) {
      node.putNull(field);
    } else {
      node.put(field, value);
    }
  }

  private static String number(double value) {
    return Double.isNaN(value) ? null : Double.toString(value);
  }

  private static String fixed(double value) {
    return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%.3f", value);
  }
}
