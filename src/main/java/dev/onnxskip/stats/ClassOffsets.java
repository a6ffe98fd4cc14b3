package dev.onnxskip.stats;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.LUDecomposition;

/**
 * One additive offset per class, added to the logits before the argmax. A skipped span often shifts
 * every example's logits towards one label while keeping their order; refitting the offsets tells such
 * a recoverable shift (cheap to fix with a bias) apart from lost information.
 *
 * <p>The offsets maximise the log-likelihood of the gold labels under the softmax of the shifted
 * logits. Adding one constant to every offset changes no probability, so they are fixed to mean 0. A
 * class without gold examples would gain likelihood without end by falling further, so its offset is
 * −∞ (never predicted) and the mean is over the other classes.
 *
 * @param offsets one per class, in class order
 */
public record ClassOffsets(List<Double> offsets) {

  /** Newton's method converges in a handful of steps on this concave problem; the cap is a guard. */
  private static final int MAX_ITERATIONS = 100;
  private static final int MAX_HALVINGS = 40;
  /** The most an offset moves in one step, in logit units, so that a flat start cannot fling it away. */
  private static final double MAX_STEP = 10;
  /**
   * Damping added to the curvature, relative to the examples per class, so that it stays invertible
   * where the softmax saturates and every probability but one is 0 in floating point.
   */
  private static final double DAMPING = 1e-6;

  public ClassOffsets {
    offsets = List.copyOf(offsets);
    if (offsets.isEmpty()) {
      throw new IllegalArgumentException("no class offsets");
    }
    if (offsets.stream().anyMatch(b -> b.isNaN() || b == Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException("class offsets " + offsets + " must each be finite or -Infinity");
    }
  }

  /**
   * The offsets of largest likelihood.
   *
   * @param logits {@code logits[i][c]}, example i's logit for class c; all finite
   * @param gold each example's class index
   */
  public static ClassOffsets fit(double[][] logits, int[] gold) {
    int classes = checkedClasses(logits, gold);
    if (logits.length == 0) {
      throw new IllegalArgumentException("no examples to fit class offsets on");
    }
    long[] counts = new long[classes];
    for (int y : gold) {
      counts[y]++;
    }
    int[] present = IntStream.range(0, classes).filter(c -> counts[c] > 0).toArray();
    double[] fitted = newton(logits, gold, present);
    Double[] offsets = new Double[classes];
    Arrays.fill(offsets, Double.NEGATIVE_INFINITY);
    for (int s = 0; s < present.length; s++) {
      offsets[present[s]] = fitted[s];
    }
    return new ClassOffsets(List.of(offsets));
  }

  /** The class of largest shifted logit for each example; the first of equal maxima, as in evaluation. */
  public int[] predict(double[][] logits) {
    int[] predicted = new int[logits.length];
    for (int i = 0; i < logits.length; i++) {
      if (logits[i].length != offsets.size()) {
        throw new IllegalArgumentException("logit row " + i + " has " + logits[i].length + " classes, not " + offsets.size());
      }
      int best = 0;
      for (int c = 1; c < offsets.size(); c++) {
        if (logits[i][c] + offsets.get(c) > logits[i][best] + offsets.get(best)) {
          best = c;
        }
      }
      predicted[i] = best;
    }
    return predicted;
  }

  /**
   * Each example's prediction from offsets fitted on the other folds only, so that the accuracy after
   * refitting is not flattered by fitting to the examples it is measured on. The examples are shuffled
   * into {@link Folds}.
   */
  public static int[] crossFitted(double[][] logits, int[] gold, int folds) {
    checkedClasses(logits, gold);
    Folds split = Folds.of(logits.length, folds);
    int[] predicted = new int[logits.length];
    for (int f = 0; f < folds; f++) {
      int[] train = split.training(f);
      int[] test = split.held(f);
      ClassOffsets offsets = fit(rows(logits, train), IntStream.of(train).map(i -> gold[i]).toArray());
      int[] p = offsets.predict(rows(logits, test));
      for (int t = 0; t < test.length; t++) {
        predicted[test[t]] = p[t];
      }
    }
    return predicted;
  }

  /**
   * Newton's method on the offsets of the present classes, with steps capped and halved so that the
   * likelihood never falls. It starts from offsets that cancel each class's mean logit and add the log
   * of its gold count: exact when the logits are all 0, and already undoing a constant shift of one
   * class. The Hessian is singular along the all-ones direction (a common shift); adding a multiple of
   * {@code 11ᵀ} and a slight damping makes it invertible without giving the step a common shift, so
   * the offsets keep the mean of the start, which is then removed.
   */
  private static double[] newton(double[][] logits, int[] gold, int[] present) {
    int k = present.length;
    int[] slot = new int[logits[0].length];
    for (int s = 0; s < k; s++) {
      slot[present[s]] = s;
    }
    double n = logits.length;
    double[] count = new double[k];
    double[] meanLogit = new double[k];
    for (int i = 0; i < logits.length; i++) {
      count[slot[gold[i]]]++;
      for (int s = 0; s < k; s++) {
        meanLogit[s] += logits[i][present[s]] / n;
      }
    }
    double[] b = new double[k];
    for (int s = 0; s < k; s++) {
      b[s] = Math.log(count[s]) - meanLogit[s];
    }
    for (int iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
      double[] gradient = new double[k];
      double[][] curvature = new double[k][k];
      for (int i = 0; i < logits.length; i++) {
        double[] p = softmax(logits[i], present, b);
        gradient[slot[gold[i]]] += 1;
        for (int r = 0; r < k; r++) {
          gradient[r] -= p[r];
          curvature[r][r] += p[r];
          for (int c = 0; c < k; c++) {
            curvature[r][c] -= p[r] * p[c];
          }
        }
      }
      double largest = 0;
      for (int r = 0; r < k; r++) {
        largest = Math.max(largest, Math.abs(gradient[r]));
        for (int c = 0; c < k; c++) {
          curvature[r][c] += n / k;
        }
        curvature[r][r] += DAMPING * n / k;
      }
      if (largest <= 1e-10 * n) {
        break;
      }
      double[] step = new LUDecomposition(new Array2DRowRealMatrix(curvature, false))
          .getSolver().solve(new ArrayRealVector(gradient, false)).toArray();
      double longest = Arrays.stream(step).map(Math::abs).max().orElse(0);
      double cap = longest > MAX_STEP ? MAX_STEP / longest : 1;
      double before = logLikelihood(logits, gold, present, slot, b);
      double[] next = b;
      for (int halving = 0; halving < MAX_HALVINGS; halving++) {
        double scale = cap * Math.scalb(1.0, -halving);
        double[] candidate = new double[k];
        for (int r = 0; r < k; r++) {
          candidate[r] = b[r] + scale * step[r];
        }
        if (logLikelihood(logits, gold, present, slot, candidate) >= before) {
          next = candidate;
          break;
        }
      }
      if (next == b) {
        break;
      }
      b = next;
    }
    double mean = Arrays.stream(b).average().orElse(0);
    return Arrays.stream(b).map(x -> x - mean).toArray();
  }

  private static double[] softmax(double[] row, int[] present, double[] b) {
    double[] p = new double[present.length];
    double max = Double.NEGATIVE_INFINITY;
    for (int s = 0; s < present.length; s++) {
      p[s] = row[present[s]] + b[s];
      max = Math.max(max, p[s]);
    }
    double sum = 0;
    for (int s = 0; s < present.length; s++) {
      p[s] = Math.exp(p[s] - max);
      sum += p[s];
    }
    for (int s = 0; s < present.length; s++) {
      p[s] /= sum;
    }
    return p;
  }

  /** Summed as log-softmax, which stays finite where the probability itself underflows to 0. */
  private static double logLikelihood(double[][] logits, int[] gold, int[] present, int[] slot, double[] b) {
    double total = 0;
    for (int i = 0; i < logits.length; i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int s = 0; s < present.length; s++) {
        max = Math.max(max, logits[i][present[s]] + b[s]);
      }
      double sum = 0;
      for (int s = 0; s < present.length; s++) {
        sum += Math.exp(logits[i][present[s]] + b[s] - max);
      }
      total += logits[i][gold[i]] + b[slot[gold[i]]] - max - Math.log(sum);
    }
    return total;
  }

  private static double[][] rows(double[][] logits, int[] indices) {
    return IntStream.of(indices).mapToObj(i -> logits[i]).toArray(double[][]::new);
  }

  /** The number of classes, after checking that the rows agree, are finite and that gold fits them. */
  private static int checkedClasses(double[][] logits, int[] gold) {
    if (logits.length != gold.length) {
      throw new IllegalArgumentException(logits.length + " logit rows but " + gold.length + " gold labels");
    }
    int classes = logits.length == 0 ? 0 : logits[0].length;
    for (int i = 0; i < logits.length; i++) {
      if (logits[i].length != classes) {
        throw new IllegalArgumentException("logit row " + i + " has " + logits[i].length + " classes, not " + classes);
      }
      for (double v : logits[i]) {
        if (!Double.isFinite(v)) {
          throw new IllegalArgumentException("logit row " + i + " holds " + v);
        }
      }
      if (gold[i] < 0 || gold[i] >= classes) {
        throw new IllegalArgumentException("gold class " + gold[i] + " of example " + i + " is outside the " + classes + " classes");
      }
    }
    return classes;
  }
}
