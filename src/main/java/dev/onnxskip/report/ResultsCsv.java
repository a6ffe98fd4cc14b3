package dev.onnxskip.report;

import dev.onnxskip.AtomicFiles;
import dev.onnxskip.eval.Findings;
import dev.onnxskip.eval.LayerMetrics;
import dev.onnxskip.eval.LabelScore;
import dev.onnxskip.eval.Latencies;
import dev.onnxskip.eval.Metrics;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.VariantResult;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * {@code results.csv}: one row per variant and label, for spreadsheets and data frames.
 *
 * <p>Columns: {@link #HEADER}. Baseline rows leave {@code span_start} and {@code span_end} empty and
 * have {@code skipped_layers} 0; {@code skipped_layers} is the span's length. {@code accuracy} is the
 * variant's accuracy on that gold label, {@code delta_accuracy} its difference to the baseline's,
 * {@code variant_accuracy}, {@code variant_macro_f1} and the balanced accuracy with its interval
 * ({@code variant_balanced_*}) repeat the variant's overall scores on each of its rows. The statistics columns are the label's figures of the variant's findings, as
 * results.json's {@code findings.per_label} holds them: the accuracy's 95% Wilson interval
 * ({@code accuracy_low}, {@code accuracy_high}), AUROC, recalibrated accuracy, the refit head's
 * accuracy, and against the baseline the discordant counts, the share of changed predictions
 * ({@code churn}), McNemar's p before and after the Holm correction, whether it is
 * significant, and the bootstrap interval of the change ({@code delta_low}, {@code delta_high}). The
 * last columns are the span's label-free layer metrics on that label's examples, as results.json's
 * {@code layer_metrics.per_span} holds them ({@code block_influence} summed over the span's layers).
 * Absent values (the baseline's span and tests, undefined scores as {@link LabelScore} defines them,
 * statistics of results without them) are empty, unquoted fields. Doubles keep full precision.
 */
public final class ResultsCsv {
  public static final List<String> HEADER = List.of(
      "span_start", "span_end", "skipped_layers", "label", "support", "accuracy", "delta_accuracy",
      "precision", "f1", "predicted", "variant_accuracy", "variant_macro_f1",
      "variant_balanced_accuracy", "variant_balanced_low", "variant_balanced_high",
      "accuracy_low", "accuracy_high", "auroc", "recalibrated_accuracy", "refit_accuracy", "fixed", "broken", "churn",
      "p_mcnemar", "p_holm", "significant", "delta_low", "delta_high",
      "angular_distance", "angular_distance_first_token", "angular_distance_pooled", "pooled_cosine", "linear_cka", "block_influence");

  // RFC 4180 quoting, but "\n" rows so the file is the same on every platform and diffs cleanly.
  // Absent values are null and print as an empty field, never quoted: an empty string would be quoted
  // where it starts a row (the baseline's span_start) and not elsewhere.
  private static final CSVFormat FORMAT = CSVFormat.RFC4180.builder()
      .setHeader(HEADER.toArray(String[]::new))
      .setRecordSeparator('\n')
      .setNullString("")
      .get();

  /**
   * Columns appended where the run measured speed, repeated on each row of a variant: median batch-1
   * time and its quartiles (ms), speed-up against the baseline, examples per second at the batch
   * size and its speed-up, the model's parameters and file size.
   */
  public static final List<String> LATENCY_HEADER = List.of(
      "latency_ms", "latency_q1_ms", "latency_q3_ms", "speedup", "examples_per_second", "throughput_speedup", "parameters",
      "file_bytes");

  private ResultsCsv() {}

  /** Writes {@code results} to {@code file} atomically. */
  public static void write(RunResults results, Path file) {
    write(results, Optional.empty(), file);
  }

  /** Writes {@code results}, with the {@link #LATENCY_HEADER} columns where there are latencies, atomically. */
  public static void write(RunResults results, Optional<Latencies> latencies, Path file) {
    AtomicFiles.write(file, out -> {
      Writer writer = new OutputStreamWriter(out, StandardCharsets.UTF_8);
      print(results, latencies, writer);
      writer.flush();
    });
  }

  /** The CSV text. */
  public static String toCsv(RunResults results) {
    StringWriter text = new StringWriter();
    try {
      print(results, Optional.empty(), text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return text.toString();
  }

  private static void print(RunResults results, Optional<Latencies> latencies, Appendable out) throws IOException {
    List<String> header = new ArrayList<>(HEADER);
    latencies.ifPresent(l -> header.addAll(LATENCY_HEADER));
    CSVPrinter csv = new CSVPrinter(out, FORMAT.builder().setHeader(header.toArray(String[]::new)).get());
    List<LabelScore> base = results.baseline().metrics().perLabel();
    for (int at = 0; at < results.variants().size(); at++) {
      VariantResult v = results.variants().get(at);
      Metrics m = v.metrics();
      int index = at;
      Optional<Findings.VariantFindings> findings = results.findings().map(x -> x.variants().get(index));
      Optional<LayerMetrics.SpanFigures> layerFigures = v.isBaseline() ? Optional.empty()
          : results.layerMetrics().flatMap(x -> x.spans().stream().filter(s -> s.span().equals(v.span())).findFirst());
      List<LabelScore> scores = m.perLabel();
      for (int i = 0; i < scores.size(); i++) {
        LabelScore s = scores.get(i);
        int label = i;
        Optional<Findings.Figures> f = findings.map(x -> x.groups().get(label));
        Optional<Findings.Change> c = f.flatMap(Findings.Figures::change);
        Optional<LayerMetrics.SpanValues> lm = layerFigures.map(x -> x.byGroup().get(label));
        List<Object> row = new ArrayList<>(Arrays.asList(
            v.isBaseline() ? null : v.span().start(),
            v.isBaseline() ? null : v.span().end(),
            v.isBaseline() ? 0 : v.span().length(),
            s.label(),
            s.support(),
            number(s.accuracy()),
            number(s.accuracy() - base.get(i).accuracy()),
            number(s.precision()),
            number(s.f1()),
            s.predicted(),
            number(m.accuracy()),
            number(m.macroF1()),
            findings.flatMap(Findings.VariantFindings::balanced).map(b -> Double.toString(b.value())).orElse(null),
            findings.flatMap(Findings.VariantFindings::balanced).map(b -> Double.toString(b.lower())).orElse(null),
            findings.flatMap(Findings.VariantFindings::balanced).map(b -> Double.toString(b.upper())).orElse(null),
            f.flatMap(Findings.Figures::interval).map(w -> Double.toString(w.lower())).orElse(null),
            f.flatMap(Findings.Figures::interval).map(w -> Double.toString(w.upper())).orElse(null),
            f.map(Findings.Figures::auroc).flatMap(ResultsCsv::number).orElse(null),
            f.map(Findings.Figures::recalibratedAccuracy).flatMap(ResultsCsv::number).orElse(null),
            f.map(Findings.Figures::refitAccuracy).flatMap(ResultsCsv::number).orElse(null),
            c.map(x -> x.test().fixed()).orElse(null),
            c.map(x -> x.test().broken()).orElse(null),
            c.map(x -> Double.toString(x.churn())).orElse(null),
            c.map(x -> Double.toString(x.test().pValue())).orElse(null),
            c.map(x -> Double.toString(x.holm())).orElse(null),
            c.map(Findings.Change::significant).orElse(null),
            c.flatMap(Findings.Change::interval).map(b -> Double.toString(b.lower())).orElse(null),
            c.flatMap(Findings.Change::interval).map(b -> Double.toString(b.upper())).orElse(null)));
        for (LayerMetrics.Metric metric : LayerMetrics.Metric.values()) {
          row.add(lm.map(x -> number(x.get(metric))).orElse(null));
        }
        latencies.ifPresent(l -> row.addAll(latencyColumns(l, v)));
        csv.printRecord(row);
      }
    }
    csv.flush();
  }

  private static List<Object> latencyColumns(Latencies latencies, VariantResult v) {
    Optional<Latencies.VariantLatency> measured = latencies.of(v.variant());
    if (measured.isEmpty()) {
      return Arrays.asList(new Object[LATENCY_HEADER.size()]);
    }
    Latencies.VariantLatency m = measured.get();
    return List.of(Double.toString(m.latency().median()), Double.toString(m.latency().q1()), Double.toString(m.latency().q3()),
        Double.toString(latencies.speedup(m)), Double.toString(m.throughput().examplesPerSecond()),
        Double.toString(latencies.throughputSpeedup(m)), m.parameters(), m.fileBytes());
  }

  private static String number(double value) {
    return Double.isNaN(value) ? null : Double.toString(value);
  }

  private static Optional<String> number(OptionalDouble value) {
    return value.isPresent() ? Optional.of(Double.toString(value.getAsDouble())) : Optional.empty();
  }
}
