package dev.onnxskip.eval;

import dev.onnxskip.OnnxSkipException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;

/**
 * Scores of one variant over a labelled set, kept as the confusion matrix from which every score is
 * derived: {@code confusion[gold][predicted]} counts the examples of gold label {@code gold} that
 * were predicted as {@code predicted}. Label indices follow {@code labels}.
 */
public record Metrics(List<String> labels, long[][] confusion) {

  public Metrics {
    labels = List.copyOf(labels);
    if (labels.isEmpty()) {
      throw new IllegalArgumentException("no labels");
    }
    if (new HashSet<>(labels).size() != labels.size()) {
      throw new IllegalArgumentException("duplicate labels in " + labels);
    }
    int n = labels.size();
    if (confusion.length != n) {
      throw new IllegalArgumentException(
          "confusion matrix has " + confusion.length + " rows for " + n + " labels");
    }
    long[][] copy = new long[n][];
    for (int g = 0; g < n; g++) {
      if (confusion[g].length != n) {
        throw new IllegalArgumentException(
            "confusion matrix row " + g + " has " + confusion[g].length + " columns for " + n + " labels");
      }
      for (long count : confusion[g]) {
        if (count < 0) {
          throw new IllegalArgumentException("negative count in confusion matrix row " + g);
        }
      }
      copy[g] = confusion[g].clone();
    }
    confusion = copy;
  }

  /**
   * Counts predictions against gold labels, example by example.
   *
   * @throws OnnxSkipException when an index lies outside the labels, naming the example
   */
  public static Metrics of(List<String> labels, int[] gold, int[] predicted) {
    if (gold.length != predicted.length) {
      throw new IllegalArgumentException(
          gold.length + " gold labels but " + predicted.length + " predictions");
    }
    int n = labels.size();
    long[][] confusion = new long[n][n];
    for (int i = 0; i < gold.length; i++) {
      checkIndex("gold", gold[i], i, labels);
      checkIndex("predicted", predicted[i], i, labels);
      confusion[gold[i]][predicted[i]]++;
    }
    return new Metrics(labels, confusion);
  }

  private static void checkIndex(String kind, int index, int example, List<String> labels) {
    if (index < 0 || index >= labels.size()) {
      throw new OnnxSkipException("example " + example + ": " + kind + " label index " + index
          + " is outside the " + labels.size() + " labels " + labels);
    }
  }

  /** A copy: the matrix stays immutable. */
  @Override
  public long[][] confusion() {
    long[][] copy = new long[confusion.length][];
    for (int g = 0; g < confusion.length; g++) {
      copy[g] = confusion[g].clone();
    }
    return copy;
  }

  /** The count of examples of gold label {@code gold} predicted as {@code predicted}. */
  public long count(int gold, int predicted) {
    return confusion[gold][predicted];
  }

  public long total() {
    long total = 0;
    for (long[] row : confusion) {
      for (long count : row) {
        total += count;
      }
    }
    return total;
  }

  /** The share of all examples predicted correctly; {@code NaN} for an empty set. */
  public double accuracy() {
    long correct = 0;
    for (int g = 0; g < confusion.length; g++) {
      correct += confusion[g][g];
    }
    return (double) correct / total();
  }

  /**
   * The unweighted mean of the per-label F1 over the labels that have gold examples. A label without
   * examples has no recall and so no F1 (see {@link LabelScore}); predictions of it are errors that
   * already lower the recall of the labels those examples do carry. {@code NaN} for an empty set.
   */
  public double macroF1() {
    double sum = 0;
    int counted = 0;
    for (LabelScore s : perLabel()) {
      if (s.support() > 0) {
        sum += s.f1();
        counted++;
      }
    }
    return counted == 0 ? Double.NaN : sum / counted;
  }

  /** Per-label scores, in label order; see {@link LabelScore} for which scores are undefined when. */
  public List<LabelScore> perLabel() {
    long[] support = supportCounts();
    long[] predicted = predictedCounts();
    List<LabelScore> scores = new ArrayList<>(labels.size());
    for (int i = 0; i < labels.size(); i++) {
      long tp = confusion[i][i];
      double accuracy = support[i] == 0 ? Double.NaN : (double) tp / support[i];
      double precision = predicted[i] > 0 ? (double) tp / predicted[i] : support[i] > 0 ? 0 : Double.NaN;
      double f1 = support[i] == 0 ? Double.NaN : f1(tp, support[i], predicted[i]);
      scores.add(new LabelScore(labels.get(i), support[i], predicted[i], accuracy, precision, f1));
    }
    return scores;
  }

  /** 2 tp / (gold + predicted), which equals 2PR/(P+R) and is 0 when tp is 0, with no 0/0. */
  private static double f1(long tp, long support, long predicted) {
    return tp == 0 ? 0 : 2.0 * tp / (support + predicted);
  }

  /** How many examples carry each gold label (row sums). */
  public long[] supportCounts() {
    long[] support = new long[confusion.length];
    for (int g = 0; g < confusion.length; g++) {
      for (long count : confusion[g]) {
        support[g] += count;
      }
    }
    return support;
  }

  /**
   * How the predictions are distributed over the labels (column sums); a variant that has collapsed
   * onto one label shows nearly all its predictions in one entry.
   */
  public long[] predictedCounts() {
    long[] predicted = new long[confusion.length];
    for (long[] row : confusion) {
      for (int p = 0; p < row.length; p++) {
        predicted[p] += row[p];
      }
    }
    return predicted;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Metrics m && labels.equals(m.labels) && Arrays.deepEquals(confusion, m.confusion);
  }

  @Override
  public int hashCode() {
    return 31 * labels.hashCode() + Arrays.deepHashCode(confusion);
  }

  @Override
  public String toString() {
    return "Metrics[labels=" + labels + ", confusion=" + Arrays.deepToString(confusion) + "]";
  }
}
