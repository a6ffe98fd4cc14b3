package dev.onnxskip.probe;

import de.bwaldvogel.liblinear.Feature;
import de.bwaldvogel.liblinear.FeatureNode;
import de.bwaldvogel.liblinear.Linear;
import de.bwaldvogel.liblinear.Model;
import de.bwaldvogel.liblinear.Parameter;
import de.bwaldvogel.liblinear.ParameterSearchResult;
import de.bwaldvogel.liblinear.Problem;
import de.bwaldvogel.liblinear.SolverType;
import dev.onnxskip.UsageException;
import java.util.Random;

/**
 * An L2-regularised logistic-regression probe trained by liblinear (one-vs-rest for more than two
 * labels), expressed as a linear head: {@code logits = pooled @ weights + bias}.
 *
 * <p>For two labels liblinear learns one decision value d for its first label; the head gives
 * logits (d, 0) in that order, whose softmax is exactly liblinear's sigmoid probability. For more
 * labels the logits are the one-vs-rest decision values, whose argmax is liblinear's prediction.
 *
 * @param weights [hidden][labels] row-major: {@code weights[h * labels + c]}
 * @param bias [labels]
 * @param trainAccuracy accuracy of the head on its own training features
 * @param seconds training time
 */
public record LinearProbe(int hidden, int labels, float[] weights, float[] bias, double trainAccuracy, double seconds) {

  /**
   * @param features pooled encoder outputs, one row per example
   * @param gold label index per example, in 0..labels-1
   * @param c inverse regularisation strength (liblinear's C)
   */
  public static LinearProbe train(float[][] features, int[] gold, int labels, double c) {
    if (c <= 0) {
      throw new UsageException("--c must be positive, got " + c);
    }
    if (labels < 2) {
      throw new UsageException("the training data has " + labels + " label(s); a classifier needs at least two");
    }
    long start = System.nanoTime();
    int hidden = features[0].length;
    Model model = Linear.train(problem(features, gold), parameter(c));
    float[] weights = new float[hidden * labels];
    float[] bias = new float[labels];
    int[] order = model.getLabels();
    int nrW = model.getNrClass() == 2 ? 1 : model.getNrClass();
    double[] w = model.getFeatureWeights();
    for (int k = 0; k < nrW; k++) {
      int label = order[k];
      for (int h = 0; h < hidden; h++) {
        weights[h * labels + label] = (float) w[h * nrW + k];
      }
      bias[label] = (float) w[hidden * nrW + k];
    }
    LinearProbe probe = new LinearProbe(hidden, labels, weights, bias, 0, 0);
    return new LinearProbe(hidden, labels, weights, bias, probe.accuracy(features, gold), (System.nanoTime() - start) / 1e9);
  }

  /**
   * The C chosen by cross-validation.
   *
   * @param accuracy the mean accuracy over the folds at that C
   */
  public record ChosenC(double c, double accuracy, int folds) {}

  /**
   * Chooses C by liblinear's own search: it trains with C rising from a small value, warm-started,
   * and keeps the one of best {@code folds}-fold cross-validation accuracy. The folds are drawn
   * from a fixed seed, so the choice is the same every run.
   *
   * @throws UsageException when there are fewer examples than folds
   */
  public static ChosenC chooseC(float[][] features, int[] gold, int folds) {
    if (features.length < folds) {
      throw new UsageException("--c auto needs at least " + folds + " training examples for " + folds
          + "-fold cross-validation, got " + features.length);
    }
    ParameterSearchResult found = Linear.findParameters(problem(features, gold), parameter(1.0), folds, -1, -1);
    return new ChosenC(found.getBestC(), found.getBestScore(), folds);
  }

  private static Problem problem(float[][] features, int[] gold) {
    int n = features.length;
    int hidden = features[0].length;
    Problem problem = new Problem();
    problem.l = n;
    problem.n = hidden + 1;
    problem.bias = 1;
    problem.y = new double[n];
    problem.x = new Feature[n][];
    for (int i = 0; i < n; i++) {
      problem.y[i] = gold[i];
      Feature[] row = new Feature[hidden + 1];
      for (int h = 0; h < hidden; h++) {
        row[h] = new FeatureNode(h + 1, features[i][h]);
      }
      row[hidden] = new FeatureNode(hidden + 1, 1.0);
      problem.x[i] = row;
    }
    return problem;
  }

  private static Parameter parameter(double c) {
    Parameter param = new Parameter(SolverType.L2R_LR, c, 1e-4);
    // liblinear shuffles (and draws cross-validation folds) with this generator: a fixed seed makes
    // training and the choice of C reproducible.
    param.setRandom(new Random(0));
    Linear.disableDebugOutput();
    return param;
  }

  /** The share of {@code features} whose predicted label is the gold one. */
  public double accuracy(float[][] features, int[] gold) {
    int correct = 0;
    for (int i = 0; i < features.length; i++) {
      correct += argmax(logits(features[i])) == gold[i] ? 1 : 0;
    }
    return (double) correct / features.length;
  }

  /** The head's logits for one pooled vector, computed in Java as the reference for the graph. */
  public float[] logits(float[] pooled) {
    float[] out = new float[labels];
    for (int c = 0; c < labels; c++) {
      double sum = bias[c];
      for (int h = 0; h < hidden; h++) {
        sum += (double) pooled[h] * weights[h * labels + c];
      }
      out[c] = (float) sum;
    }
    return out;
  }

  public static int argmax(float[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }
}
