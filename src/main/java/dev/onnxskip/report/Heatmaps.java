package dev.onnxskip.report;

import dev.onnxskip.eval.Findings;
import dev.onnxskip.eval.LabelScore;
import dev.onnxskip.eval.LayerMetrics;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.VariantResult;
import dev.onnxskip.rewrite.SkipSpan;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The heatmaps of a run, each as PNG and SVG:
 *
 * <ul>
 *   <li>{@code heatmaps}: every label side by side on the one fixed 0..1 accuracy scale, so the
 *       per-label patterns compare at a glance;
 *   <li>{@code heatmap-LABEL}: one label's accuracy for every span, with the baseline beside it;
 *   <li>{@code heatmap-LABEL-delta}: the same as change against the baseline, on a diverging scale
 *       centred at 0 whose symmetric range is a round number just above the largest change.
 * </ul>
 *
 * {@code LABEL} is the label in Unicode NFC with every character but letters, marks, digits and
 * {@code ._-} replaced by {@code _} (so {@code 正面} stays {@code 正面}; separators, spaces, quotes and
 * brackets, which paths or shells treat specially, do not); labels that would then share a file name
 * get {@code -2}, {@code -3}, ... appended. {@code summary.md} lists which files show which label.
 */
public final class Heatmaps {
  private static final int MAX_CONFIG_TEXT = 48;
  static final String NO_EXAMPLES = "no examples";

  private Heatmaps() {}

  /**
   * Writes all heatmaps into {@code dir} (created if needed), each file atomically.
   *
   * @return the files written: per label its PNG, SVG, change PNG and change SVG, then the overview
   *     PNG and SVG, the layer metrics' and Block Influence figures, and shift-vs-loss
   */
  public static List<Path> write(RunResults results, Path dir) {
    List<Figure.Planned> figures = new ArrayList<>();
    List<String> stems = fileStems(results.labels());
    for (int i = 0; i < results.labels().size(); i++) {
      String stem = "heatmap-" + stems.get(i);
      int label = i;
      figures.add(new Figure.Planned(stem, () -> labelFigure(results, label)));
      figures.add(new Figure.Planned(stem + "-delta", () -> changeFigure(results, label)));
    }
    figures.add(new Figure.Planned("heatmaps", () -> overview(results)));
    results.layerMetrics().ifPresent(metrics -> {
      figures.add(new Figure.Planned("layer-metrics", () -> layerMetrics(results, metrics)));
      figures.add(new Figure.Planned("block-influence", () -> BlockInfluenceChart.figure(metrics)));
    });
    results.findings().ifPresent(findings -> figures.add(new Figure.Planned("shift-vs-loss", () -> shiftVersusLoss(results, findings))));
    return Figure.writeAll(figures, dir);
  }

  /**
   * Per label, one row of three grids: raw accuracy, accuracy after recalibration, and AUROC, and a
   * fourth, the refit head's accuracy, where one was fitted. A span whose raw accuracy collapses while
   * the others hold only moved the decision; one where all fall destroyed the information.
   */
  static HeatmapFigure shiftVersusLoss(RunResults results, Findings findings) {
    List<HeatmapFigure.Panel> panels = new ArrayList<>();
    for (int label = 0; label < results.labels().size(); label++) {
      HeatmapFigure.Panel raw = accuracyPanel(results, label);
      String name = results.labels().get(label);
      panels.add(new HeatmapFigure.Panel(name + ": accuracy", raw.cells(), raw.baseline(), raw.note(), raw.uncertain()));
      int at = label;
      panels.add(figurePanel(results, findings, name + ": recalibrated", raw.note(),
          v -> v.groups().get(at).recalibratedAccuracy()));
      panels.add(figurePanel(results, findings, name + ": AUROC", raw.note(), v -> v.groups().get(at).auroc()));
      if (findings.headRefit().computed()) {
        panels.add(figurePanel(results, findings, name + ": refit head", raw.note(), v -> v.groups().get(at).refitAccuracy()));
      }
    }
    List<String> subtitle = new ArrayList<>(subtitle(results, panels));
    subtitle.add("recalibrated: after one offset per class, cross-fitted over " + findings.folds() + " folds");
    if (findings.headRefit().computed()) {
      subtitle.add("refit head: a new linear head on the variant's features, cross-fitted");
    }
    subtitle.add("accuracy falls, the others hold: decision shift; all fall: information loss");
    return new HeatmapFigure("Decision shift or information loss", subtitle, panels, results.layers(), ColorScale.accuracy(),
        HeatmapFigure::accuracyText, true, findings.headRefit().computed() ? 4 : 3);
  }

  /** The label-free metrics the layer-metrics figure shows, one column each. */
  private static final List<LayerMetrics.Metric> SHOWN = List.of(LayerMetrics.Metric.ANGULAR_DISTANCE,
      LayerMetrics.Metric.ANGULAR_DISTANCE_POOLED, LayerMetrics.Metric.POOLED_COSINE, LayerMetrics.Metric.LINEAR_CKA);

  /**
   * The label-free metrics on the triangle layout, one row per group (all examples, then each label)
   * and one column per metric, all on the one 0..1 scale: a distance is 0 and a similarity 1 where a
   * span changes nothing, the baseline's box.
   */
  static HeatmapFigure layerMetrics(RunResults results, LayerMetrics metrics) {
    List<HeatmapFigure.Panel> panels = new ArrayList<>();
    int overall = metrics.groups().size() - 1;
    List<Integer> order = new ArrayList<>();
    order.add(overall);
    for (int g = 0; g < overall; g++) {
      order.add(g);
    }
    for (int g : order) {
      for (LayerMetrics.Metric m : SHOWN) {
        double[][] cells = new double[results.layers()][results.layers()];
        for (double[] row : cells) {
          Arrays.fill(row, Double.NaN);
        }
        for (LayerMetrics.SpanFigures s : metrics.spans()) {
          cells[s.span().start()][s.span().end()] = s.byGroup().get(g).get(m);
        }
        double unchanged = m == LayerMetrics.Metric.POOLED_COSINE || m == LayerMetrics.Metric.LINEAR_CKA ? 1 : 0;
        panels.add(new HeatmapFigure.Panel(metrics.groups().get(g) + ": " + m.title(), cells, unchanged));
      }
    }
    List<String> subtitle = new ArrayList<>(subtitle(results, panels));
    subtitle.add("angular distance: arccos(cos(h_S, h_E+1))/π, mean over real tokens, and between mean-pooled states");
    subtitle.add("pooled cosine and linear CKA: the variant's mean-pooled final state against the baseline's");
    return new HeatmapFigure("Label-free layer metrics per span", subtitle, panels, results.layers(), ColorScale.accuracy(),
        HeatmapFigure::accuracyText, true, SHOWN.size());
  }

  private static HeatmapFigure.Panel figurePanel(RunResults results, Findings findings, String title, String note,
      java.util.function.Function<Findings.VariantFindings, java.util.OptionalDouble> value) {
    double[][] cells = new double[results.layers()][results.layers()];
    for (double[] row : cells) {
      Arrays.fill(row, Double.NaN);
    }
    for (Findings.VariantFindings v : findings.variants()) {
      if (v.variant() instanceof SkipSpan span) {
        cells[span.start()][span.end()] = value.apply(v).orElse(Double.NaN);
      }
    }
    return new HeatmapFigure.Panel(title, cells, value.apply(findings.variants().get(0)).orElse(Double.NaN), note, null);
  }

  /** All labels side by side on the shared accuracy scale. */
  static HeatmapFigure overview(RunResults results) {
    List<HeatmapFigure.Panel> panels = new ArrayList<>();
    for (int i = 0; i < results.labels().size(); i++) {
      panels.add(accuracyPanel(results, i));
    }
    return new HeatmapFigure("Accuracy per gold label with encoder layers skipped", subtitle(results, panels),
        panels, results.layers(), ColorScale.accuracy(), HeatmapFigure::accuracyText, true);
  }

  static HeatmapFigure labelFigure(RunResults results, int label) {
    List<HeatmapFigure.Panel> panels = List.of(accuracyPanel(results, label));
    return new HeatmapFigure("Accuracy with encoder layers skipped", subtitle(results, panels), panels,
        results.layers(), ColorScale.accuracy(), HeatmapFigure::accuracyText, true);
  }

  static HeatmapFigure changeFigure(RunResults results, int label) {
    HeatmapFigure.Panel accuracy = accuracyPanel(results, label);
    double baseline = accuracy.baseline();
    double[][] change = new double[results.layers()][results.layers()];
    double largest = 0;
    for (int s = 0; s < change.length; s++) {
      for (int e = s; e < change.length; e++) {
        change[s][e] = accuracy.cells()[s][e] - baseline;
        if (!Double.isNaN(change[s][e])) {
          largest = Math.max(largest, Math.abs(change[s][e]));
        }
      }
    }
    List<HeatmapFigure.Panel> panels =
        List.of(new HeatmapFigure.Panel(accuracy.title(), change, baseline, accuracy.note(), accuracy.uncertain()));
    return new HeatmapFigure("Change in accuracy against the baseline", subtitle(results, panels), panels,
        results.layers(), ColorScale.change(ColorScale.changeRange(largest)), HeatmapFigure::changeText, false);
  }

  private static HeatmapFigure.Panel accuracyPanel(RunResults results, int label) {
    double[][] cells = new double[results.layers()][results.layers()];
    for (double[] row : cells) {
      Arrays.fill(row, Double.NaN);
    }
    for (VariantResult v : results.spans()) {
      cells[v.span().start()][v.span().end()] = v.metrics().perLabel().get(label).accuracy();
    }
    LabelScore base = results.baseline().metrics().perLabel().get(label);
    return new HeatmapFigure.Panel(base.label() + " (n=" + base.support() + ")", cells, base.accuracy(),
        base.support() == 0 ? NO_EXAMPLES : null, uncertain(results, label));
  }

  /** The spans whose change on the label is not significant after the Holm correction; null without statistics. */
  private static boolean[][] uncertain(RunResults results, int label) {
    if (results.findings().isEmpty()) {
      return null;
    }
    boolean[][] uncertain = new boolean[results.layers()][results.layers()];
    for (Findings.VariantFindings v : results.findings().get().variants()) {
      if (v.variant() instanceof SkipSpan span) {
        uncertain[span.start()][span.end()] = v.groups().get(label).change().map(c -> !c.significant()).orElse(false);
      }
    }
    return uncertain;
  }

  /**
   * Model and dataset as the run's config names them, then the size of the run, then what grey
   * cells mean in these panels.
   */
  private static List<String> subtitle(RunResults results, List<HeatmapFigure.Panel> panels) {
    List<String> parts = new ArrayList<>();
    for (String key : List.of("model", "dataset")) {
      Object value = results.config().get(key);
      if (value != null && !(value instanceof java.util.Map<?, ?>) && !(value instanceof List<?>)) {
        parts.add(key + ": " + shorten(value.toString()));
      }
    }
    parts.add(results.baseline().metrics().total() + " examples");
    parts.add(results.layers() + (results.layers() == 1 ? " layer" : " layers"));
    parts.add("cell: layers first\u2013last replaced by the identity");
    int layers = results.layers();
    if (results.spans().size() < layers * (layers + 1) / 2) {
      parts.add("grey: span not evaluated");
    }
    results.findings().ifPresent(f -> parts.add(String.format(Locale.ROOT,
        "hatched: not significant (McNemar, Holm, alpha %s)", f.settings().alpha())));
    if (panels.stream().anyMatch(p -> NO_EXAMPLES.equals(p.note()))) {
      parts.add("grey, \u201c" + NO_EXAMPLES + "\u201d: the label does not occur in the data");
    }
    return parts;
  }

  /** Long values (paths, mostly) keep their end, which names the file. */
  private static String shorten(String text) {
    return text.length() <= MAX_CONFIG_TEXT ? text : "\u2026" + text.substring(text.length() - MAX_CONFIG_TEXT + 1);
  }

  /**
   * File-name-safe, distinct stems for the labels. Distinct ignoring case, for file systems that
   * ignore it, and never equal to another label's stem plus {@code -delta}.
   */
  static List<String> fileStems(List<String> labels) {
    Set<String> taken = new HashSet<>();
    List<String> stems = new ArrayList<>();
    for (String label : labels) {
      String base = Normalizer.normalize(label, Normalizer.Form.NFC)
          .replaceAll("[^\\p{L}\\p{M}\\p{N}._-]", "_").replaceFirst("^\\.", "_");
      if (base.isEmpty()) {
        base = "_";
      }
      String stem = base;
      for (int n = 2; taken.contains(key(stem)) || taken.contains(key(stem + "-delta")); n++) {
        stem = base + "-" + n;
      }
      taken.add(key(stem));
      taken.add(key(stem + "-delta"));
      stems.add(stem);
    }
    return stems;
  }

  private static String key(String stem) {
    return stem.toLowerCase(Locale.ROOT);
  }
}
