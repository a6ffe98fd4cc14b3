package dev.onnxskip.stats;

import de.bwaldvogel.liblinear.Feature;
import de.bwaldvogel.liblinear.FeatureNode;
import de.bwaldvogel.liblinear.Linear;
import de.bwaldvogel.liblinear.Model;
import de.bwaldvogel.liblinear.Parameter;
import de.bwaldvogel.liblinear.Problem;
import de.bwaldvogel.liblinear.SolverType;
import java.util.Random;

/**
 * A fresh linear head trained on a variant's features, cross-fitted: how much of what a skipped span
 * did to the predictions a new head on the same features undoes. Where the refit head recovers the
 * baseline's accuracy, the information is in the features and only the old head cannot read it.
 *
 * <p>Each fold's examples are predicted by an L2-regularised logistic regression (liblinear,
 * one-vs-rest for more than two labels) trained on the other folds, on features standardised by the
 * training folds' mean and standard deviation, so that one regularisation strength suits variants
 * whose features differ in scale.
 */
public final class HeadRefit {

  /** liblinear's C (inverse regularisation) on standardised features. */
  public static final double C = 1.0;
  /** liblinear's default stopping tolerance for this solver. */
  private static final double TOLERANCE = 0.01;

  private HeadRefit() {}

  /**
   * @param features [examples][width]
   * @param gold each example's label index
   * @return each example's label predicted by the head fitted without its fold
   */
  public static int[] crossFitted(float[][] features, int[] gold, Folds folds) {
    if (features.length != gold.length || features.length != folds.fold().length) {
      throw new IllegalArgumentException(features.length + " feature rows, " + gold.length + " labels, " + folds.fold().length + " fold entries");
    }
    int[] predicted = new int[features.length];
    for (int f = 0; f < folds.count(); f++) {
      int[] train = folds.training(f);
      Standardiser scale = Standardiser.of(features, train);
      Model model = Linear.train(problem(features, gold, train, scale), parameter());
      for (int i : folds.held(f)) {
        predicted[i] = (int) Linear.predict(model, row(features[i], scale));
      }
    }
    return predicted;
  }

  /** Per-feature mean and standard deviation of the training rows; a constant feature keeps scale 1. */
  private record Standardiser(double[] mean, double[] scale) {
    static Standardiser of(float[][] features, int[] rows) {
      int width = features[0].length;
      double[] mean = new double[width];
      double[] square = new double[width];
      for (int i : rows) {
        for (int h = 0; h < width; h++) {
          mean[h] += features[i][h];
        }
      }
      for (int h = 0; h < width; h++) {
        mean[h] /= rows.length;
      }
      for (int i : rows) {
        for (int h = 0; h < width; h++) {
          double d = features[i][h] - mean[h];
          square[h] += d * d;
        }
      }
      double[] scale = new double[width];
      for (int h = 0; h < width; h++) {
        double sd = Math.sqrt(square[h] / rows.length);
        scale[h] = sd > 0 ? 1 / sd : 1;
      }
      return new Standardiser(mean, scale);
    }
  }

  private static Problem problem(float[][] features, int[] gold, int[] rows, Standardiser scale) {
    int width = features[0].length;
    Problem problem = new Problem();
    problem.l = rows.length;
    problem.n = width + 1;
    problem.bias = 1;
    problem.y = new double[rows.length];
    problem.x = new Feature[rows.length][];
    for (int r = 0; r < rows.length; r++) {
      problem.y[r] = gold[rows[r]];
      problem.x[r] = row(features[rows[r]], scale);
    }
    return problem;
  }

  /** One example as liblinear reads it: every standardised feature, then the bias feature. */
  private static Feature[] row(float[] features, Standardiser scale) {
    Feature[] row = new Feature[features.length + 1];
    for (int h = 0; h < features.length; h++) {
      row[h] = new FeatureNode(h + 1, (features[h] - scale.mean()[h]) * scale.scale()[h]);
    }
    row[features.length] = new FeatureNode(features.length + 1, 1.0);
    return row;
  }

  private static Parameter parameter() {
    Parameter param = new Parameter(SolverType.L2R_LR, C, TOLERANCE);
    param.setRandom(new Random(0));
    Linear.disableDebugOutput();
    return param;
  }
}
