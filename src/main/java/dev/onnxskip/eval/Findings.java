package dev.onnxskip.eval;

import dev.onnxskip.UsageException;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.stats.Auroc;
import dev.onnxskip.stats.BalancedAccuracy;
import dev.onnxskip.stats.ClassOffsets;
import dev.onnxskip.stats.Folds;
import dev.onnxskip.stats.HeadRefit;
import dev.onnxskip.stats.Holm;
import dev.onnxskip.stats.McNemar;
import dev.onnxskip.stats.MinimumDetectableChange;
import dev.onnxskip.stats.PairedBootstrap;
import dev.onnxskip.stats.Wilson;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a run's scores support, per variant and per group of examples (each gold label, and all of
 * them), against the baseline on the same examples: intervals and paired tests that tell a real
 * change from noise, and threshold-free separability (AUROC) and recalibrated accuracy that tell a
 * moved decision from lost information.
 *
 * <p>Every paired test of every span, per label and overall, is one family for the Holm correction:
 * that is the set of claims a reader of the heatmaps makes at once.
 *
 * @param variants in the order of the run's variants, the baseline first
 * @param folds the folds the recalibration and the head refit were cross-fitted with; 0 when a label
 *     had too few examples for any
 * @param headRefit whether a fresh linear head was fitted on each variant's features
 */
public record Findings(Settings settings, List<VariantFindings> variants, int folds, Refit headRefit) {

  /** The name of the group of all examples, beside the label names. */
  public static final String OVERALL = "overall";

  /** The bootstrap's seed: fixed, so that the same logits give the same intervals on every run. */
  public static final long BOOTSTRAP_SEED = 0;

  /**
   * How the statistics are computed.
   *
   * @param alpha the family-wise error rate of the Holm-corrected tests
   * @param bootstrap resamples of the paired bootstrap; 0 for none
   * @param folds folds of the cross-fitted recalibration and head refit; 0 for {@link
   *     #DEFAULT_FOLDS}, or as many as the smallest label has examples where that is fewer
   * @param headRefit whether to fit a fresh head on each variant's features where the model's head is
   *     linear; the engines then fetch the features too
   * @param layerMetrics whether to compute the label-free layer metrics; the engines then fetch the
   *     layer states too
   */
  public record Settings(double alpha, int bootstrap, int folds, boolean headRefit, boolean layerMetrics) {
    public static final int DEFAULT_FOLDS = 5;
    public static final Settings DEFAULT = new Settings(0.05, 1000, 0, true, true);

    /** With the head refit and the layer metrics on. */
    public Settings(double alpha, int bootstrap, int folds) {
      this(alpha, bootstrap, folds, true, true);
    }

    /** @throws UsageException naming the option of a value out of range */
    public Settings {
      if (!(alpha > 0 && alpha < 1)) {
        throw new UsageException("--alpha must lie between 0 and 1, got " + alpha);
      }
      if (bootstrap < 0) {
        throw new UsageException("--bootstrap must be 0 (none) or more resamples, got " + bootstrap);
      }
      if (folds != 0 && folds < 2) {
        throw new UsageException("--folds must be at least 2, got " + folds);
      }
    }
  }

  /**
   * Whether a fresh linear head was fitted on every variant's features.
   *
   * @param note the features the head read when computed ({@code "features 'x', width 384"}), and
   *     otherwise why not, in a sentence
   */
  public record Refit(boolean computed, String note) {
    public static Refit absent(String reason) {
      return new Refit(false, reason);
    }
  }

  /**
   * A variant's change against the baseline on one group of examples.
   *
   * @param test the exact McNemar test of the examples it fixed against those it broke
   * @param churn the share of the group whose predicted label differs from the baseline's (with
   *     more than two labels, also those moved from one wrong label to another)
   * @param holm the test's p-value after the Holm correction over the run's family
   * @param significant whether {@code holm} is below alpha
   * @param interval the paired bootstrap interval of the change in accuracy, unless turned off
   */
  public record Change(McNemar test, double churn, double holm, boolean significant, Optional<PairedBootstrap> interval) {}

  /**
   * One variant's figures on one group of examples.
   *
   * @param group a label name, or {@link #OVERALL}
   * @param accuracy the share of the group predicted right: the label's recall, or the overall accuracy
   * @param interval its 95% Wilson interval
   * @param auroc one-vs-rest AUROC of the label's softmax score (macro AUROC overall); empty where
   *     undefined
   * @param recalibratedAccuracy the accuracy after per-class offsets fitted on the other folds; empty
   *     without examples, or without folds
   * @param refitAccuracy the accuracy of a fresh linear head fitted on the other folds' features;
   *     empty where no head was refit
   * @param change against the baseline; empty for the baseline and for a group without examples
   * @param detectable for the baseline only: the smallest change this group's support lets a test detect
   */
  public record Figures(String group, long support, OptionalDouble accuracy, Optional<Wilson> interval, OptionalDouble auroc,
      OptionalDouble recalibratedAccuracy, OptionalDouble refitAccuracy, Optional<Change> change,
      Optional<MinimumDetectableChange> detectable) {}

  /**
   * One variant's findings.
   *
   * @param groups every label's figures in label order, then the overall ones
   * @param balanced the mean of the labels' recalls, with its interval; empty without examples
   * @param predictedShare the share of examples predicted as each label
   * @param klFromGold the Kullback–Leibler divergence, in nats, of the predicted label distribution
   *     from the gold one: 0 when the variant predicts each label as often as it occurs, large when
   *     its predictions collapse onto few labels (infinite when it predicts a label absent from the data)
   */
  public record VariantFindings(Variant variant, List<Figures> groups, Optional<BalancedAccuracy> balanced, double[] predictedShare,
      double klFromGold) {

    public Figures overall() {
      return groups.get(groups.size() - 1);
    }
  }

  /** Without a head refit. */
  public static Findings of(Settings settings, List<String> labels, int[] gold, List<Variant> variants, Map<Variant, float[][]> logits) {
    return of(settings, labels, gold, variants, logits, Map.of(), Refit.absent("no features were fetched"));
  }

  /**
   * @param logits every variant's logits, the baseline among them
   * @param features every variant's features where {@code headRefit} is computed, otherwise unread
   * @param variants the variants in report order, the baseline first
   */
  public static Findings of(Settings settings, List<String> labels, int[] gold, List<Variant> variants, Map<Variant, float[][]> logits,
      Map<Variant, float[][]> features, Refit headRefit) {
    int folds = folds(settings, labels.size(), gold);
    // The refits are independent and the slowest part: one per variant, on the run's cores.
    Map<Variant, boolean[]> refitRight = new ConcurrentHashMap<>();
    if (headRefit.computed() && folds > 0) {
      Folds split = Folds.of(gold.length, folds);
      variants.parallelStream().forEach(v -> refitRight.put(v, correct(HeadRefit.crossFitted(features.get(v), gold, split), gold)));
    }
    List<Group> groups = groups(labels, gold);
    int[] baselinePredicted = EvalRun.argmax(logits.get(Variant.BASELINE));
    boolean[] baselineRight = correct(baselinePredicted, gold);
    double[] goldShare = share(gold, labels.size());
    // First each variant's figures with the raw tests, variants side by side on the run's cores (each
    // draws from seeds of its own, so the order they run in changes nothing); then, the family
    // complete, the Holm correction.
    List<VariantFindings> raw = variants.parallelStream().map(v -> {
      double[][] values = toDouble(logits.get(v));
      int[] predicted = EvalRun.argmax(logits.get(v));
      boolean[] right = correct(predicted, gold);
      Optional<boolean[]> recalibratedRight = folds == 0 ? Optional.empty()
          : Optional.of(correct(ClassOffsets.crossFitted(values, gold, folds), gold));
      double[][] scores = softmax(values);
      List<Figures> figures = new ArrayList<>();
      for (Group g : groups) {
        OptionalDouble auroc = g.label() < 0 ? Auroc.macro(scores, gold) : Auroc.oneVsRest(column(scores, g.label()), g.member());
        Optional<Change> change = Optional.empty();
        if (!v.isBaseline() && g.support() > 0) {
          McNemar test = pairedTest(g.member(), baselineRight, right);
          change = Optional.of(new Change(test, churn(g.member(), baselinePredicted, predicted, g.support()), Double.NaN, false,
              PairedBootstrap.of(subset(baselineRight, g.member()), subset(right, g.member()), settings.bootstrap(), BOOTSTRAP_SEED)));
        }
        long rightCount = count(g.member(), right);
        OptionalDouble accuracy = share(rightCount, g.support());
        Optional<MinimumDetectableChange> detectable = v.isBaseline() && g.support() > 0
            ? Optional.of(MinimumDetectableChange.of(accuracy.getAsDouble(), g.support(), settings.alpha(), MinimumDetectableChange.DEFAULT_POWER))
            : Optional.empty();
        OptionalDouble recalibrated = recalibratedRight.isEmpty() ? OptionalDouble.empty()
            : share(count(g.member(), recalibratedRight.get()), g.support());
        OptionalDouble refit = refitRight.containsKey(v) ? share(count(g.member(), refitRight.get(v)), g.support()) : OptionalDouble.empty();
        figures.add(new Figures(g.name(), g.support(), accuracy, Wilson.of(rightCount, g.support()), auroc, recalibrated, refit, change,
            detectable));
      }
      double[] predictedShare = share(predicted, labels.size());
      return new VariantFindings(v, figures, balanced(groups, right), predictedShare, klDivergence(predictedShare, goldShare));
    }).toList();
    double[] holm = Holm.adjust(raw.stream().flatMap(v -> v.groups().stream()).flatMap(f -> f.change().stream())
        .mapToDouble(c -> c.test().pValue()).toArray());
    int next = 0;
    List<VariantFindings> out = new ArrayList<>();
    for (VariantFindings v : raw) {
      List<Figures> figures = new ArrayList<>();
      for (Figures f : v.groups()) {
        Optional<Change> change = Optional.empty();
        if (f.change().isPresent()) {
          double adjusted = holm[next++];
          Change c = f.change().get();
          change = Optional.of(new Change(c.test(), c.churn(), adjusted, adjusted < settings.alpha(), c.interval()));
        }
        figures.add(new Figures(f.group(), f.support(), f.accuracy(), f.interval(), f.auroc(), f.recalibratedAccuracy(),
            f.refitAccuracy(), change, f.detectable()));
      }
      out.add(new VariantFindings(v.variant(), figures, v.balanced(), v.predictedShare(), v.klFromGold()));
    }
    return new Findings(settings, out, folds, folds > 0 ? headRefit
        : Refit.absent("a label has fewer than two examples, too few to cross-fit a head"));
  }

  private static Optional<BalancedAccuracy> balanced(List<Group> groups, boolean[] right) {
    List<Group> labels = groups.stream().filter(g -> g.label() >= 0).toList();
    long[] rightCount = labels.stream().mapToLong(g -> count(g.member(), right)).toArray();
    long[] support = labels.stream().mapToLong(Group::support).toArray();
    return BalancedAccuracy.of(rightCount, support, Wilson.DEFAULT_CONFIDENCE);
  }

  /**
   * The groups of examples figures are given for: each label's, then all of them.
   *
   * @param label the label's index; -1 for all examples
   */
  private record Group(String name, int label, boolean[] member, long support) {}

  private static List<Group> groups(List<String> labels, int[] gold) {
    List<Group> groups = new ArrayList<>();
    for (int c = 0; c <= labels.size(); c++) {
      boolean overall = c == labels.size();
      boolean[] member = new boolean[gold.length];
      long support = 0;
      for (int i = 0; i < gold.length; i++) {
        member[i] = overall || gold[i] == c;
        support += member[i] ? 1 : 0;
      }
      groups.add(new Group(overall ? OVERALL : labels.get(c), overall ? -1 : c, member, support));
    }
    return groups;
  }

  private static OptionalDouble share(long count, long of) {
    return of == 0 ? OptionalDouble.empty() : OptionalDouble.of((double) count / of);
  }

  /** The folds to cross-fit with: as given, or the default cut to the smallest label's examples. */
  private static int folds(Settings settings, int labels, int[] gold) {
    if (settings.folds() > 0) {
      return settings.folds();
    }
    long[] support = new long[labels];
    for (int g : gold) {
      support[g]++;
    }
    long smallest = Arrays.stream(support).filter(s -> s > 0).min().orElse(0);
    int folds = (int) Math.min(Settings.DEFAULT_FOLDS, smallest);
    return folds >= 2 ? folds : 0;
  }

  /**
   * Cross-fitting needs every label in more than one fold, or a fold's offsets never see it; checked
   * before any model runs.
   *
   * @throws UsageException naming the label and the largest --folds it allows
   */
  public static void checkFolds(Settings settings, List<String> labels, int[] gold) {
    long[] support = new long[labels.size()];
    for (int g : gold) {
      support[g]++;
    }
    for (int c = 0; c < support.length; c++) {
      if (settings.folds() > 0 && support[c] > 0 && support[c] < settings.folds()) {
        throw new UsageException("--folds " + settings.folds() + " is more than the " + support[c] + " examples of label '"
            + labels.get(c) + "'; use --folds " + Math.max(2, support[c]) + " or less");
      }
    }
  }


  private static McNemar pairedTest(boolean[] member, boolean[] baselineRight, boolean[] right) {
    int fixed = 0;
    int broken = 0;
    for (int i = 0; i < member.length; i++) {
      if (member[i] && baselineRight[i] != right[i]) {
        if (right[i]) {
          fixed++;
        } else {
          broken++;
        }
      }
    }
    return McNemar.test(fixed, broken);
  }

  private static double churn(boolean[] member, int[] baseline, int[] predicted, long support) {
    long changed = 0;
    for (int i = 0; i < member.length; i++) {
      changed += member[i] && baseline[i] != predicted[i] ? 1 : 0;
    }
    return (double) changed / support;
  }

  private static boolean[] correct(int[] predicted, int[] gold) {
    boolean[] right = new boolean[gold.length];
    for (int i = 0; i < gold.length; i++) {
      right[i] = predicted[i] == gold[i];
    }
    return right;
  }

  private static long count(boolean[] member, boolean[] right) {
    long k = 0;
    for (int i = 0; i < member.length; i++) {
      k += member[i] && right[i] ? 1 : 0;
    }
    return k;
  }

  private static boolean[] subset(boolean[] values, boolean[] member) {
    int size = 0;
    for (boolean m : member) {
      size += m ? 1 : 0;
    }
    boolean[] out = new boolean[size];
    for (int i = 0, j = 0; i < values.length; i++) {
      if (member[i]) {
        out[j++] = values[i];
      }
    }
    return out;
  }

  private static double[][] toDouble(float[][] logits) {
    double[][] out = new double[logits.length][];
    for (int i = 0; i < logits.length; i++) {
      out[i] = new double[logits[i].length];
      for (int j = 0; j < logits[i].length; j++) {
        out[i][j] = logits[i][j];
      }
    }
    return out;
  }

  /** Softmax probabilities, computed from the largest logit down so that none overflows. */
  private static double[][] softmax(double[][] logits) {
    double[][] out = new double[logits.length][];
    for (int i = 0; i < logits.length; i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (double v : logits[i]) {
        max = Math.max(max, v);
      }
      double sum = 0;
      out[i] = new double[logits[i].length];
      for (int j = 0; j < logits[i].length; j++) {
        out[i][j] = Math.exp(logits[i][j] - max);
        sum += out[i][j];
      }
      for (int j = 0; j < out[i].length; j++) {
        out[i][j] /= sum;
      }
    }
    return out;
  }

  private static double[] column(double[][] scores, int c) {
    double[] out = new double[scores.length];
    for (int i = 0; i < scores.length; i++) {
      out[i] = scores[i][c];
    }
    return out;
  }

  private static double[] share(int[] labelOf, int labels) {
    long[] counts = new long[labels];
    for (int l : labelOf) {
      counts[l]++;
    }
    double[] share = new double[labels];
    for (int c = 0; c < labels; c++) {
      share[c] = (double) counts[c] / labelOf.length;
    }
    return share;
  }

  /** KL(p || q) in nats; terms where p is 0 contribute nothing. */
  static double klDivergence(double[] p, double[] q) {
    double kl = 0;
    for (int i = 0; i < p.length; i++) {
      if (p[i] > 0) {
        kl += q[i] == 0 ? Double.POSITIVE_INFINITY : p[i] * Math.log(p[i] / q[i]);
      }
    }
    return kl;
  }
}
