package dev.onnxskip.report;

import dev.onnxskip.eval.Findings;
import dev.onnxskip.eval.LabelScore;
import dev.onnxskip.eval.LayerMetrics;
import dev.onnxskip.eval.Metrics;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.VariantResult;
import dev.onnxskip.rewrite.SkipSpan;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The short Markdown summary {@code eval} prints and saves as {@code summary.md}: every variant's
 * overall accuracy and macro-F1, baseline accuracy per label, then per label the spans whose removal
 * hurts most (only those below the baseline) and least, then variants that predict (almost) only one
 * label.
 */
public final class Summary {
  /** A variant has collapsed when at least this share of its predictions is one label. */
  public static final double COLLAPSE_SHARE = 0.95;
  /** How many spans each ranking shows at most. */
  public static final int TOP = 3;

  private Summary() {}

  public static String markdown(RunResults results) {
    StringBuilder md = new StringBuilder();
    Metrics base = results.baseline().metrics();
    md.append("## Variants\n\n");
    md.append("| variant | layers skipped | accuracy | change | macro-F1 | change |\n|:--|--:|--:|--:|--:|--:|\n");
    for (VariantResult v : results.variants()) {
      Metrics m = v.metrics();
      md.append("| ").append(v.name()).append(" | ").append(v.isBaseline() ? 0 : v.span().length())
          .append(" | ").append(fixed(m.accuracy())).append(" | ").append(change(m.accuracy() - base.accuracy()))
          .append(" | ").append(fixed(m.macroF1())).append(" | ").append(change(m.macroF1() - base.macroF1()))
          .append(" |\n");
    }

    md.append("\n## Baseline\n\n");
    md.append(String.format(Locale.ROOT,
        "Accuracy %s, macro-F1 %s on %d examples; %d layers, %d of %d spans evaluated.\n\n",
        fixed(base.accuracy()), fixed(base.macroF1()), base.total(), results.layers(),
        results.spans().size(), results.layers() * (results.layers() + 1) / 2));
    Optional<Findings.VariantFindings> baseFindings = results.findings().map(f -> f.variants().get(0));
    md.append("| label | support | accuracy |").append(baseFindings.isPresent() ? " 95% interval | smallest detectable drop |" : "")
        .append("\n|:--|--:|--:|").append(baseFindings.isPresent() ? ":--:|--:|" : "").append('\n');
    for (int i = 0; i < base.perLabel().size(); i++) {
      LabelScore s = base.perLabel().get(i);
      md.append("| ").append(cell(s.label())).append(" | ").append(s.support()).append(" | ").append(fixed(s.accuracy())).append(" |");
      int label = i;
      baseFindings.ifPresent(f -> {
        Findings.Figures figures = f.groups().get(label);
        md.append(' ').append(figures.interval().map(w -> "[" + fixed(w.lower()) + ", " + fixed(w.upper()) + "]").orElse("n/a"))
            .append(" | ").append(figures.detectable().flatMap(d -> d.drop().isPresent() ? Optional.of(fixed(d.drop().getAsDouble()))
                : Optional.<String>empty()).orElse("n/a")).append(" |");
      });
      md.append('\n');
    }
    baseFindings.ifPresent(f -> md.append("\nA drop is detectable when a two-sided test at alpha ")
        .append(results.findings().get().settings().alpha()).append(" finds it with 80% power, given the label's support.\n"));
    baseFindings.flatMap(Findings.VariantFindings::balanced).ifPresent(b -> md.append(String.format(Locale.ROOT,
        "Balanced accuracy (the mean of the labels' accuracies) %s, 95%% interval [%s, %s].%n", fixed(b.value()), fixed(b.lower()),
        fixed(b.upper()))));
    results.findings().ifPresent(f -> md.append(f.headRefit().computed()
        ? "A fresh linear head was fitted on each variant's " + f.headRefit().note() + ", cross-fitted over " + f.folds()
            + " folds (\"refit head\" below): what a new head on the same features recovers.\n"
        : "No head was refit on the variants' features: " + f.headRefit().note() + ".\n"));

    // Each ranking shows at most half the spans, so that with few spans the two lists do not overlap.
    int top = Math.min(TOP, Math.max(1, results.spans().size() / 2));
    for (int i = 0; i < results.labels().size(); i++) {
      LabelScore b = base.perLabel().get(i);
      md.append("\n## ").append(results.labels().get(i)).append('\n');
      if (results.spans().isEmpty()) {
        md.append("\nNo spans were evaluated.\n");
      } else if (b.support() == 0) {
        md.append("\nNo examples of this label: spans not ranked.\n");
      } else if (results.findings().isPresent()) {
        significance(md, results, results.findings().get(), i, top);
      } else {
        List<VariantResult> harmful = mostHarmful(results, i, top);
        if (harmful.isEmpty()) {
          md.append(String.format(Locale.ROOT, "\nNo span lowers the accuracy on this label below the baseline's %s.\n",
              fixed(b.accuracy())));
        } else {
          md.append("\nMost harmful spans (lowest accuracy on this label):\n\n");
          table(md, harmful, i, b.accuracy());
        }
        md.append("\nMost harmless spans (highest accuracy on this label; longer spans first on ties):\n\n");
        table(md, mostHarmless(results, i, top), i, b.accuracy());
      }
    }

    results.layerMetrics().ifPresent(m -> layerMetrics(md, m));

    md.append("\n## Collapsed predictions\n\n");
    List<VariantResult> collapsed = collapsed(results);
    if (collapsed.isEmpty()) {
      md.append(String.format(Locale.ROOT, "No variant predicts one label for %s%% or more of the examples.\n",
          percent(COLLAPSE_SHARE)));
    }
    long[] gold = base.supportCounts();
    for (VariantResult v : collapsed) {
      long[] predicted = v.metrics().predictedCounts();
      int label = argMax(predicted);
      long total = v.metrics().total();
      md.append(String.format(Locale.ROOT, "- %s: %s%% of predictions are %s (%s%% of the gold labels)\n",
          v.name(), percent((double) predicted[label] / total), results.labels().get(label),
          percent((double) gold[label] / total)));
    }
    return md.toString();
  }

  /**
   * The text of {@code summary.md}: the printed summary, then which heatmap files show which label,
   * since a file name cannot always spell its label.
   */
  public static String file(RunResults results) {
    StringBuilder md = new StringBuilder(markdown(results));
    md.append("\n## Heatmaps\n\n| label | accuracy | change against the baseline |\n|:--|:--|:--|\n");
    List<String> stems = Heatmaps.fileStems(results.labels());
    for (int i = 0; i < stems.size(); i++) {
      String stem = "heatmap-" + stems.get(i);
      md.append("| ").append(cell(results.labels().get(i))).append(" | ").append(link(stem + ".png"))
          .append(" | ").append(link(stem + "-delta.png")).append(" |\n");
    }
    md.append("\nAll labels on one scale: ").append(link("heatmaps.png")).append('\n');
    return md.toString();
  }

  /**
   * A label's section when the run has statistics: only changes significant after the Holm
   * correction count as harmful or helpful; each harmful one is told as a decision shift (the
   * recalibrated accuracy is back within the baseline's interval) or an information loss; and one
   * sentence says what the data supports.
   */
  private static void significance(StringBuilder md, RunResults results, Findings findings, int label, int top) {
    Findings.Figures base = findings.variants().get(0).groups().get(label);
    String name = results.labels().get(label);
    List<Findings.VariantFindings> spans = findings.variants().subList(1, findings.variants().size());
    List<Findings.VariantFindings> harmful = spans.stream()
        .filter(v -> significantDrop(v, label))
        .sorted(Comparator.<Findings.VariantFindings>comparingDouble(v -> v.groups().get(label).accuracy().orElse(0))
            .thenComparingInt(v -> ((SkipSpan) v.variant()).length()))
        .toList();
    List<Findings.VariantFindings> harmless = spans.stream()
        .filter(v -> !significantDrop(v, label))
        .sorted(Comparator.<Findings.VariantFindings>comparingInt(v -> -((SkipSpan) v.variant()).length())
            .thenComparingDouble(v -> -v.groups().get(label).accuracy().orElse(0)))
        .toList();
    double alpha = findings.settings().alpha();
    if (harmful.isEmpty()) {
      md.append(String.format(Locale.ROOT, "%nNo span lowers the accuracy on this label significantly (Holm, alpha %s).%n", alpha));
    } else {
      md.append(String.format(Locale.ROOT, "%nSpans that lower the accuracy on this label significantly (Holm, alpha %s), most"
          + " harmful first:%n%n", alpha));
      verdictTable(md, harmful.subList(0, Math.min(top, harmful.size())), label, base, true, findings.headRefit().computed());
    }
    if (!harmless.isEmpty()) {
      md.append("\nLongest spans with no significant loss on this label:\n\n");
      verdictTable(md, harmless.subList(0, Math.min(top, harmless.size())), label, base, false, findings.headRefit().computed());
    }
    long shifts = harmful.stream().filter(v -> isShift(v.groups().get(label), base)).count();
    long refitRecovers = harmful.stream().filter(v -> !isShift(v.groups().get(label), base) && refitRecovers(v.groups().get(label), base))
        .count();
    md.append('\n').append(sentence(name, base, spans.size(), harmful.size(), shifts, refitRecovers, alpha)).append('\n');
  }

  private static void verdictTable(StringBuilder md, List<Findings.VariantFindings> spans, int label, Findings.Figures base,
      boolean withVerdict, boolean withRefit) {
    md.append("| span | accuracy | change | 95% interval | p (Holm) | recalibrated | AUROC |").append(withRefit ? " refit head |" : "")
        .append(withVerdict ? " reading |" : "")
        .append("\n|:--|--:|--:|:--:|--:|--:|--:|").append(withRefit ? "--:|" : "").append(withVerdict ? ":--|" : "").append('\n');
    for (Findings.VariantFindings v : spans) {
      Findings.Figures f = v.groups().get(label);
      Findings.Change c = f.change().orElseThrow();
      md.append("| ").append(v.variant().name()).append(" | ").append(fixed(f.accuracy().orElse(Double.NaN))).append(" | ")
          .append(change(f.accuracy().orElse(Double.NaN) - base.accuracy().orElse(Double.NaN))).append(" | ")
          .append(c.interval().map(i -> "[" + change(i.lower()) + ", " + change(i.upper()) + "]").orElse("n/a")).append(" | ")
          .append(String.format(Locale.ROOT, "%.2g", c.holm())).append(" | ")
          .append(fixed(f.recalibratedAccuracy().orElse(Double.NaN))).append(" | ")
          .append(fixed(f.auroc().orElse(Double.NaN))).append(" |");
      if (withRefit) {
        md.append(' ').append(fixed(f.refitAccuracy().orElse(Double.NaN))).append(" |");
      }
      if (withVerdict) {
        md.append(isShift(f, base) ? " decision shift |"
            : refitRecovers(f, base) ? " information loss for this head; a new head recovers it |" : " information loss |");
      }
      md.append('\n');
    }
  }

  /** A drop is a decision shift when recalibration brings the accuracy back within the baseline's interval. */
  private static boolean isShift(Findings.Figures f, Findings.Figures base) {
    return f.recalibratedAccuracy().isPresent() && base.interval().isPresent()
        && f.recalibratedAccuracy().getAsDouble() >= base.interval().get().lower();
  }

  /**
   * A head fitted afresh on the variant's features is back within the baseline's interval: the
   * information is in the features, in a form the old head cannot read.
   */
  private static boolean refitRecovers(Findings.Figures f, Findings.Figures base) {
    return f.refitAccuracy().isPresent() && base.interval().isPresent() && f.refitAccuracy().getAsDouble() >= base.interval().get().lower();
  }

  private static String sentence(String label, Findings.Figures base, int spans, int harmful, long shifts, long refitRecovers,
      double alpha) {
    if (harmful == 0) {
      String detectable = base.detectable().flatMap(d -> d.drop().isPresent() ? Optional.of(d.drop().getAsDouble()) : Optional.empty())
          .map(d -> String.format(Locale.ROOT, "; with %d examples, a drop smaller than %.3f could not be told from chance", base.support(), d))
          .orElse("");
      return "On " + label + ", the data support no loss from any of the " + spans + " spans" + detectable + ".";
    }
    String refit = refitRecovers == 0 ? "" : String.format(Locale.ROOT, " (for %d of them a new head on the variant's features recovers"
        + " the accuracy, so the information is changed in form rather than gone)", refitRecovers);
    return String.format(Locale.ROOT, "On %s, %d of %d spans lower the accuracy beyond chance (Holm, alpha %s): %d by shifting the"
        + " decision (recalibration restores it) and %d by losing information%s.", label, harmful, spans, alpha, shifts, harmful - shifts,
        refit);
  }

  /** A significant change that broke more of the label's examples than it fixed. */
  private static boolean significantDrop(Findings.VariantFindings v, int label) {
    return v.groups().get(label).change().filter(c -> c.significant() && c.test().broken() > c.test().fixed()).isPresent();
  }

  /**
   * Whether the label-free metrics would have picked the spans accuracy picks: per metric, its Spearman
   * correlation with the accuracy drop across the evaluated spans (overall and per label), and the span
   * it would drop first for 1, 2 and 3 layers beside accuracy's.
   */
  private static void layerMetrics(StringBuilder md, LayerMetrics m) {
    md.append("\n## Label-free layer metrics\n\n");
    md.append("Spearman correlation across spans between each metric (as a change: distances as they are, similarities"
        + " as 1 − value) and the drop in accuracy; then the span each would drop first.\n\n");
    List<String> groups = m.groups();
    int overall = groups.size() - 1;
    md.append("| metric | ρ overall |");
    for (int g = 0; g < overall; g++) {
      md.append(" ρ ").append(cell(groups.get(g))).append(" |");
    }
    List<Integer> counts = m.picks().stream().map(LayerMetrics.Pick::layersDropped).distinct().sorted().toList();
    counts.forEach(k -> md.append(" drop ").append(k).append(k == 1 ? " layer |" : " layers |"));
    md.append("\n|:--|--:|").append("--:|".repeat(overall)).append(":--|".repeat(counts.size())).append('\n');
    md.append("| accuracy |").append(" |".repeat(overall + 1));
    counts.forEach(k -> md.append(' ').append(pick(m, k, Optional.empty())).append(" |"));
    md.append('\n');
    Optional<LayerMetrics.Agreement> best = Optional.empty();
    for (LayerMetrics.Metric metric : LayerMetrics.Metric.values()) {
      md.append("| ").append(metric.title()).append(" |");
      for (int g : order(overall)) {
        LayerMetrics.Agreement a = agreement(m, metric, groups.get(g));
        md.append(' ').append(a.spearman().isPresent() ? rho(a.spearman().getAsDouble()) : "n/a").append(" |");
        if (g == overall && a.spearman().isPresent()
            && (best.isEmpty() || a.spearman().getAsDouble() > best.get().spearman().getAsDouble())) {
          best = Optional.of(a);
        }
      }
      counts.forEach(k -> md.append(' ').append(pick(m, k, Optional.of(metric))).append(" |"));
      md.append('\n');
    }
    best.ifPresent(a -> {
      long same = counts.stream().filter(k -> pick(m, k, Optional.of(a.metric())).equals(pick(m, k, Optional.empty()))).count();
      md.append(String.format(Locale.ROOT, "%nOverall, %s follows the accuracy drop most closely (ρ = %.2f) and picks the same span as"
          + " accuracy for %d of %d depths.%n", a.metric().title(), a.spearman().getAsDouble(), same, counts.size()));
    });
  }

  /** A correlation with its sign, two decimals; one that rounds to zero has none. */
  private static String rho(double value) {
    String text = String.format(Locale.ROOT, "%+.2f", value);
    return text.equals("-0.00") || text.equals("+0.00") ? "0.00" : text;
  }

  /** The overall column first, then the labels. */
  private static List<Integer> order(int overall) {
    List<Integer> order = new java.util.ArrayList<>();
    order.add(overall);
    for (int g = 0; g < overall; g++) {
      order.add(g);
    }
    return order;
  }

  private static LayerMetrics.Agreement agreement(LayerMetrics m, LayerMetrics.Metric metric, String group) {
    return m.agreement().stream().filter(a -> a.metric() == metric && a.group().equals(group)).findFirst().orElseThrow();
  }

  private static String pick(LayerMetrics m, int layers, Optional<LayerMetrics.Metric> metric) {
    return m.picks().stream().filter(p -> p.layersDropped() == layers && p.metric().equals(metric)).findFirst()
        .map(p -> p.span().name()).orElse("n/a");
  }

  /** A relative link; the angle brackets let the file name hold parentheses. */
  private static String link(String file) {
    return "[" + file + "](<" + file + ">)";
  }

  private static void table(StringBuilder md, List<VariantResult> spans, int label, double baseline) {
    md.append("| span | layers skipped | accuracy | change |\n|:--|--:|--:|--:|\n");
    for (VariantResult v : spans) {
      double accuracy = accuracy(v, label);
      md.append("| ").append(v.name()).append(" | ").append(v.span().length()).append(" | ")
          .append(fixed(accuracy)).append(" | ")
          .append(change(accuracy - baseline)).append(" |\n");
    }
  }

  /**
   * The {@code n} spans with the lowest accuracy on label {@code label} (the largest drop from the
   * baseline); on ties the shorter span first, as it does the same harm with fewer layers. Only spans
   * below the baseline count: one that ties with it or does better does no harm.
   */
  public static List<VariantResult> mostHarmful(RunResults results, int label, int n) {
    double baseline = accuracy(results.baseline(), label);
    return ranked(results.spans().stream().filter(v -> accuracy(v, label) < baseline).toList(), n,
        Comparator.<VariantResult>comparingDouble(v -> accuracy(v, label)).thenComparingInt(v -> v.span().length()));
  }

  /**
   * The {@code n} spans with the highest accuracy on label {@code label} (the smallest drop); on ties
   * the longer span first, because removing more layers for free is the interesting finding.
   */
  public static List<VariantResult> mostHarmless(RunResults results, int label, int n) {
    return ranked(results.spans(), n, Comparator.<VariantResult>comparingDouble(v -> -accuracy(v, label))
        .thenComparingInt(v -> -v.span().length()));
  }

  private static List<VariantResult> ranked(List<VariantResult> spans, int n, Comparator<VariantResult> order) {
    // Spans are in order already, so the stable sort breaks remaining ties by first layer.
    return spans.stream().sorted(order).limit(n).toList();
  }

  /** Variants (the baseline included) with at least {@link #COLLAPSE_SHARE} of predictions on one label. */
  public static List<VariantResult> collapsed(RunResults results) {
    return results.variants().stream()
        .filter(v -> {
          long total = v.metrics().total();
          long[] predicted = v.metrics().predictedCounts();
          return total > 0 && predicted[argMax(predicted)] >= COLLAPSE_SHARE * total;
        })
        .toList();
  }

  private static double accuracy(VariantResult v, int label) {
    return v.metrics().perLabel().get(label).accuracy();
  }

  private static int argMax(long[] counts) {
    int best = 0;
    for (int i = 1; i < counts.length; i++) {
      if (counts[i] > counts[best]) {
        best = i;
      }
    }
    return best;
  }

  private static String fixed(double value) {
    return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%.3f", value);
  }

  /** A change with its sign and three decimals; "n/a" when either side is undefined. */
  private static String change(double value) {
    return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%+.3f", value);
  }

  private static String percent(double share) {
    return String.format(Locale.ROOT, "%.1f", 100 * share);
  }

  /** A label as a table cell: a pipe would end the cell. */
  private static String cell(String text) {
    return text.replace("|", "\\|");
  }
}
