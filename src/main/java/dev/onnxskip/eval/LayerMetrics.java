package dev.onnxskip.eval;

import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.stats.LinearCka;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.stream.IntStream;
import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;

/**
 * Label-free measures of each span and layer beside the accuracy, each overall and per gold label
 * (averaged over that label's examples), and how far each would agree with accuracy in choosing
 * what to drop.
 *
 * @param groups the label names, then {@link Findings#OVERALL}
 * @param spans every evaluated span's figures, in the run's order
 * @param layers every layer's Block Influence
 * @param agreement per metric and group, the Spearman correlation across the evaluated spans
 *     between the metric as a change (distances as they are, similarities as 1 − value) and the
 *     accuracy drop
 * @param picks per metric and number of layers dropped (1 to 3), the span it would drop: the one of
 *     that length it finds least changed overall; accuracy's pick beside them
 */
public record LayerMetrics(List<String> groups, List<SpanFigures> spans, List<LayerFigures> layers, List<Agreement> agreement,
    List<Pick> picks) {

  /** The label-free metrics, with whether larger means more change. */
  public enum Metric {
    ANGULAR_DISTANCE("angular_distance", "angular distance", true),
    ANGULAR_DISTANCE_FIRST_TOKEN("angular_distance_first_token", "angular distance, first token", true),
    ANGULAR_DISTANCE_POOLED("angular_distance_pooled", "angular distance, pooled", true),
    POOLED_COSINE("pooled_cosine", "pooled cosine", false),
    LINEAR_CKA("linear_cka", "linear CKA", false),
    /** A span's Block Influence: the sum of its layers'. */
    BLOCK_INFLUENCE("block_influence", "Block Influence", true);

    private final String key;
    private final String title;
    private final boolean distance;

    Metric(String key, String title, boolean distance) {
      this.key = key;
      this.title = title;
      this.distance = distance;
    }

    /** The name in results.json and results.csv. */
    public String key() {
      return key;
    }

    /** The name in the summary and the figures. */
    public String title() {
      return title;
    }

    /** The value as a change: larger means the span changes more. */
    double change(double value) {
      return distance ? value : 1 - value;
    }
  }

  /**
   * A span's metrics on one group, NaN where undefined.
   *
   * @param values indexed by {@link Metric#ordinal()}
   */
  public record SpanValues(double[] values) {
    public double get(Metric m) {
      return values[m.ordinal()];
    }
  }

  /** @param byGroup in the order of {@link #groups()} */
  public record SpanFigures(SkipSpan span, List<SpanValues> byGroup) {}

  /** @param blockInfluence 1 − cos(h_k, h_{k+1}) averaged over real tokens, per group */
  public record LayerFigures(int layer, double[] blockInfluence) {}

  /** @param spearman empty with fewer than three spans, or where either side is constant */
  public record Agreement(Metric metric, String group, OptionalDouble spearman) {}

  /** @param metric empty for accuracy's own pick (the smallest overall drop) */
  public record Pick(int layersDropped, Optional<Metric> metric, SkipSpan span) {}

  /** The most layers a pick is given for. */
  static final int MOST_DROPPED = 3;

  /**
   * @param perExample the baseline's {@link LayerStates} values per example
   * @param pooled every variant's final state mean-pooled, per example
   * @param accuracy per variant, the accuracy on each group (labels, then overall)
   */
  public static LayerMetrics of(List<String> labels, int[] gold, int layers, List<Variant> variants, float[][] perExample,
      Map<Variant, float[][]> pooled, Map<Variant, double[]> accuracy) {
    List<String> groups = new ArrayList<>(labels);
    groups.add(Findings.OVERALL);
    List<int[]> members = new ArrayList<>();
    for (int c = 0; c <= labels.size(); c++) {
      int label = c;
      members.add(IntStream.range(0, gold.length).filter(i -> label == labels.size() || gold[i] == label).toArray());
    }
    float[][] base = pooled.get(Variant.BASELINE);
    List<LinearCka.Centred> baseCentred = members.stream().map(rows -> LinearCka.centred(base, rows)).toList();
    List<SkipSpan> spans = variants.stream().filter(v -> v instanceof SkipSpan).map(v -> (SkipSpan) v).toList();
    List<LayerFigures> layerFigures = new ArrayList<>();
    for (int k = 0; k < layers; k++) {
      double[] bi = new double[groups.size()];
      for (int g = 0; g < groups.size(); g++) {
        bi[g] = mean(perExample, members.get(g), LayerStates.influenceOffset(k, layers));
      }
      layerFigures.add(new LayerFigures(k, bi));
    }
    List<SpanFigures> spanFigures = spans.parallelStream().map(span -> {
      int at = LayerStates.spanOffset(span, layers);
      float[][] own = pooled.get(span);
      List<SpanValues> byGroup = new ArrayList<>();
      for (int g = 0; g < groups.size(); g++) {
        int[] rows = members.get(g);
        double[] values = new double[Metric.values().length];
        values[Metric.ANGULAR_DISTANCE.ordinal()] = mean(perExample, rows, at);
        values[Metric.ANGULAR_DISTANCE_FIRST_TOKEN.ordinal()] = mean(perExample, rows, at + 1);
        values[Metric.ANGULAR_DISTANCE_POOLED.ordinal()] = mean(perExample, rows, at + 2);
        values[Metric.POOLED_COSINE.ordinal()] = meanCosine(base, own, rows);
        values[Metric.LINEAR_CKA.ordinal()] = LinearCka.of(baseCentred.get(g), LinearCka.centred(own, rows));
        double influence = 0;
        for (int k = span.start(); k <= span.end(); k++) {
          influence += layerFigures.get(k).blockInfluence()[g];
        }
        values[Metric.BLOCK_INFLUENCE.ordinal()] = influence;
        byGroup.add(new SpanValues(values));
      }
      return new SpanFigures(span, byGroup);
    }).toList();
    return new LayerMetrics(groups, spanFigures, layerFigures, agreement(groups, spanFigures, accuracy),
        picks(spanFigures, accuracy, groups.size() - 1));
  }

  private static List<Agreement> agreement(List<String> groups, List<SpanFigures> spans, Map<Variant, double[]> accuracy) {
    List<Agreement> out = new ArrayList<>();
    double[] baseline = accuracy.get(Variant.BASELINE);
    for (Metric m : Metric.values()) {
      for (int g = 0; g < groups.size(); g++) {
        List<double[]> pairs = new ArrayList<>();
        for (SpanFigures s : spans) {
          double change = m.change(s.byGroup().get(g).get(m));
          double drop = baseline[g] - accuracy.get(s.span())[g];
          if (!Double.isNaN(change) && !Double.isNaN(drop)) {
            pairs.add(new double[] {change, drop});
          }
        }
        out.add(new Agreement(m, groups.get(g), spearman(pairs)));
      }
    }
    return out;
  }

  /** Spearman's ρ with ties given their mean rank; empty where it is undefined. */
  static OptionalDouble spearman(List<double[]> pairs) {
    if (pairs.size() < 3) {
      return OptionalDouble.empty();
    }
    double[] x = pairs.stream().mapToDouble(p -> p[0]).toArray();
    double[] y = pairs.stream().mapToDouble(p -> p[1]).toArray();
    if (Arrays.stream(x).distinct().count() < 2 || Arrays.stream(y).distinct().count() < 2) {
      return OptionalDouble.empty();
    }
    return OptionalDouble.of(new SpearmansCorrelation().correlation(x, y));
  }

  private static List<Pick> picks(List<SpanFigures> spans, Map<Variant, double[]> accuracy, int overall) {
    List<Pick> out = new ArrayList<>();
    for (int k = 1; k <= MOST_DROPPED; k++) {
      int length = k;
      List<SpanFigures> ofLength = spans.stream().filter(s -> s.span().length() == length).toList();
      if (ofLength.isEmpty()) {
        continue;
      }
      // Ties go to the first span in layer order: the list is in that order, and min keeps the first of equals.
      ofLength.stream().min(Comparator.comparingDouble(s -> -accuracy.get(s.span())[overall]))
          .ifPresent(s -> out.add(new Pick(length, Optional.empty(), s.span())));
      for (Metric m : Metric.values()) {
        ofLength.stream().filter(s -> !Double.isNaN(s.byGroup().get(overall).get(m)))
            .min(Comparator.comparingDouble(s -> m.change(s.byGroup().get(overall).get(m))))
            .ifPresent(s -> out.add(new Pick(length, Optional.of(m), s.span())));
      }
    }
    return out;
  }

  private static double mean(float[][] values, int[] rows, int column) {
    double sum = 0;
    int count = 0;
    for (int i : rows) {
      float v = values[i][column];
      if (!Float.isNaN(v)) {
        sum += v;
        count++;
      }
    }
    return count == 0 ? Double.NaN : sum / count;
  }

  private static double meanCosine(float[][] a, float[][] b, int[] rows) {
    double sum = 0;
    for (int i : rows) {
      sum += LayerStates.cosine(a[i], b[i]);
    }
    return rows.length == 0 ? Double.NaN : sum / rows.length;
  }
}
