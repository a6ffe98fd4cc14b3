package dev.onnxskip.select;

import dev.onnxskip.UsageException;
import dev.onnxskip.eval.LabelScore;
import dev.onnxskip.eval.Latencies;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.VariantResult;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.Variant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Chooses the skip variant to ship from a run's results: of the variants that meet every
 * {@link Constraints constraint}, the one with the highest measured speed-up, or, where the run
 * measured no speed, the one that skips the most layers. Ties go to the higher worst-label accuracy,
 * then the higher overall accuracy, then the earlier span.
 *
 * @param ranked every skip variant, best first by the objective alone, each with what it violates
 * @param chosen the best variant that violates nothing, if any
 * @param bySpeed whether the objective is the measured speed-up (else the layers skipped)
 */
public record VariantChoice(List<Candidate> ranked, Optional<Candidate> chosen, boolean bySpeed, Constraints constraints) {

  /** A constraint a variant fails, and by how much. */
  public record Violation(Constraints.Kind kind, String label, double value, double limit) {

    /** How far the value misses its limit: accuracy units, or a share of the speed-up asked for. */
    public double shortfall() {
      return switch (kind) {
        case LABEL_FLOOR -> limit - value;
        case MAX_DROP -> value - limit;
        case MIN_SPEEDUP -> (limit - value) / limit;
      };
    }

    public String describe() {
      return switch (kind) {
        case LABEL_FLOOR -> String.format(Locale.ROOT, "label %s at %.3f, below %s %.3f", label, value, kind.option, limit);
        case MAX_DROP -> String.format(Locale.ROOT, "label %s drops by %.3f, more than %s %.3f", label, value, kind.option, limit);
        case MIN_SPEEDUP -> String.format(Locale.ROOT, "speed-up %.2f\u00d7, below %s %.2f\u00d7", value, kind.option, limit);
      };
    }
  }

  /**
   * One skip variant as the choice sees it.
   *
   * @param speedup the measured batch-1 speed-up against the baseline, where the run measured it
   * @param worstLabel the label with examples of the lowest accuracy
   */
  public record Candidate(SkipSpan span, double accuracy, String worstLabel, double worstLabelAccuracy, OptionalDouble speedup,
      List<Violation> violations) {

    public boolean qualifies() {
      return violations.isEmpty();
    }

    /** The sum of its shortfalls: how near it came. */
    public double shortfall() {
      return violations.stream().mapToDouble(Violation::shortfall).sum();
    }

    /** What it offers: its speed-up or layers skipped, and its accuracies. */
    public String describe() {
      String speed = speedup.isPresent() ? String.format(Locale.ROOT, "%.2f\u00d7 speed-up, ", speedup.getAsDouble()) : "";
      return String.format(Locale.ROOT, "%s%d of the layers skipped, accuracy %.3f, worst label %s %.3f", speed, span.length(), accuracy,
          worstLabel, worstLabelAccuracy);
    }
  }

  /**
   * @param latencies the run's measured speed, if any
   * @param changeIntervals per span and label, the bootstrap interval of the change in accuracy;
   *     needed with {@link Constraints#significant()}
   * @throws UsageException when a constraint needs what the run lacks (speed for --min-speedup,
   *     intervals for --significant) or the run has no skip variant
   */
  public static VariantChoice of(RunResults results, Optional<Latencies> latencies, Map<Variant, Map<String, double[]>> changeIntervals,
      Constraints constraints) {
    if (constraints.minSpeedup().isPresent() && latencies.isEmpty()) {
      throw new UsageException("--min-speedup needs measured speed, and these results have none; run eval with --latency");
    }
    if (constraints.significant() && changeIntervals.isEmpty()) {
      throw new UsageException("--significant needs the bootstrap intervals of the change (results.json findings); these results"
          + " have none: run eval with statistics and --bootstrap above 0");
    }
    if (results.spans().isEmpty()) {
      throw new UsageException("these results hold the baseline only: there is no skip variant to choose");
    }
    List<LabelScore> base = results.baseline().metrics().perLabel();
    List<Candidate> candidates = new ArrayList<>();
    for (VariantResult v : results.spans()) {
      List<LabelScore> scores = v.metrics().perLabel();
      List<Violation> violations = new ArrayList<>();
      Map<String, double[]> intervals = changeIntervals.getOrDefault(v.variant(), Map.of());
      int worst = -1;
      double worstDrop = Double.NEGATIVE_INFINITY;
      String worstDropLabel = "";
      for (int i = 0; i < scores.size(); i++) {
        LabelScore s = scores.get(i);
        if (s.support() == 0) {
          continue;
        }
        if (worst < 0 || s.accuracy() < scores.get(worst).accuracy()) {
          worst = i;
        }
        if (s.accuracy() < constraints.minLabelAccuracy()) {
          violations.add(new Violation(Constraints.Kind.LABEL_FLOOR, s.label(), s.accuracy(), constraints.minLabelAccuracy()));
        }
        double drop = base.get(i).accuracy() - s.accuracy();
        if (constraints.significant()) {
          double[] interval = intervals.get(s.label());
          if (interval == null) {
            throw new UsageException("--significant: variant " + v.name() + " has no bootstrap interval for label " + s.label()
                + " in the results");
          }
          // The largest drop the interval leaves open: minus its lower end of the change.
          drop = -interval[0];
        }
        if (drop > worstDrop) {
          worstDrop = drop;
          worstDropLabel = s.label();
        }
      }
      if (worstDrop > constraints.maxDrop() + 1e-12) {
        violations.add(new Violation(Constraints.Kind.MAX_DROP, worstDropLabel, worstDrop, constraints.maxDrop()));
      }
      OptionalDouble speedup = latencies.flatMap(l -> l.of(v.variant()).map(l::speedup)).map(OptionalDouble::of).orElse(OptionalDouble.empty());
      if (constraints.minSpeedup().isPresent()) {
        double s = speedup.orElse(0);
        if (s < constraints.minSpeedup().getAsDouble()) {
          violations.add(new Violation(Constraints.Kind.MIN_SPEEDUP, "", s, constraints.minSpeedup().getAsDouble()));
        }
      }
      LabelScore w = scores.get(Math.max(worst, 0));
      candidates.add(new Candidate(v.span(), v.metrics().accuracy(), w.label(), w.accuracy(), speedup, List.copyOf(violations)));
    }
    boolean bySpeed = latencies.isPresent();
    Comparator<Candidate> objective = bySpeed
        ? Comparator.comparingDouble((Candidate c) -> c.speedup().orElse(0)).reversed()
        : Comparator.comparingInt((Candidate c) -> c.span().length()).reversed();
    objective = objective.thenComparing(Comparator.comparingDouble(Candidate::worstLabelAccuracy).reversed())
        .thenComparing(Comparator.comparingDouble(Candidate::accuracy).reversed())
        .thenComparing(Candidate::span);
    candidates.sort(objective);
    Optional<Candidate> chosen = candidates.stream().filter(Candidate::qualifies).findFirst();
    return new VariantChoice(List.copyOf(candidates), chosen, bySpeed, constraints);
  }

  /** Why {@code other} is not the choice: what it violates, or where it ranks below the chosen one. */
  public String whyNot(Candidate other) {
    if (!other.qualifies()) {
      return String.join("; ", other.violations().stream().map(Violation::describe).toList());
    }
    Candidate c = chosen.orElseThrow();
    if (bySpeed && other.speedup().orElse(0) < c.speedup().orElse(0)) {
      return String.format(Locale.ROOT, "qualifies, but slower: %.2f\u00d7 against %.2f\u00d7", other.speedup().orElse(0), c.speedup().orElse(0));
    }
    if (!bySpeed && other.span().length() < c.span().length()) {
      return "qualifies, but skips " + other.span().length() + " layers against " + c.span().length();
    }
    return String.format(Locale.ROOT, "qualifies and ties, but its worst label (%.3f) or accuracy (%.3f) is lower, or its span later",
        other.worstLabelAccuracy(), other.accuracy());
  }

  /** The candidates that failed only by a little: the one with the smallest total shortfall, first. */
  public Optional<Candidate> nearMiss() {
    return ranked.stream().filter(c -> !c.qualifies()).min(Comparator.comparingDouble(Candidate::shortfall)
        .thenComparing(Comparator.comparingInt(ranked::indexOf)));
  }

  /**
   * The constraint that binds when nothing qualifies: the one whose removal would admit the best
   * variant (the best-ranked of those that fail it alone), else, where every variant fails several,
   * the one most variants fail.
   */
  public Constraints.Kind binding() {
    Optional<Candidate> admitted = unlockedByOne();
    if (admitted.isPresent()) {
      return admitted.get().violations().get(0).kind();
    }
    Map<Constraints.Kind, Integer> any = new EnumMap<>(Constraints.Kind.class);
    for (Candidate c : ranked) {
      c.violations().stream().map(Violation::kind).distinct().forEach(k -> any.merge(k, 1, Integer::sum));
    }
    return any.entrySet().stream().max(Map.Entry.<Constraints.Kind, Integer>comparingByValue()
        .thenComparing(Map.Entry.comparingByKey(Comparator.reverseOrder()))).map(Map.Entry::getKey).orElseThrow();
  }

  /** The best-ranked variant that fails one constraint only: what relaxing the binding one would give. */
  public Optional<Candidate> unlockedByOne() {
    return ranked.stream().filter(c -> c.violations().stream().map(Violation::kind).distinct().count() == 1).findFirst();
  }

  /** How many variants fail {@code kind}, and how many fail only it. */
  public int[] failing(Constraints.Kind kind) {
    int any = 0;
    int only = 0;
    for (Candidate c : ranked) {
      List<Constraints.Kind> kinds = c.violations().stream().map(Violation::kind).distinct().toList();
      if (kinds.contains(kind)) {
        any++;
        only += kinds.size() == 1 ? 1 : 0;
      }
    }
    return new int[] {any, only};
  }
}
