package dev.onnxskip.eval;

import dev.onnxskip.data.Batch;
import dev.onnxskip.rewrite.SkipSpan;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Label-free measures of what a block or a span does to the residual stream, per example, from the
 * baseline's states h_0..h_L of one batch (h_k the input of layer k), over real tokens only so that
 * padding changes nothing.
 *
 * <p>Per example the values are laid out as: for every span S..E of {@link SkipSpan#all} in that
 * order, three angular distances between h_S and h_{E+1} (Gromov et al. 2024): arccos(cos)/π averaged
 * over real tokens, on the first token, and between the two states mean-pooled over real tokens; then,
 * per layer k, its Block Influence (Men et al. 2024): 1 − cos(h_k, h_{k+1}) averaged over real tokens.
 */
public final class LayerStates {
  /** Values per span: token-averaged, first-token and pooled angular distance. */
  static final int PER_SPAN = 3;

  private LayerStates() {}

  /** Width of one example's values for a model of {@code layers} layers. */
  static int width(int layers) {
    return PER_SPAN * layers * (layers + 1) / 2 + layers;
  }

  /**
   * @param states h_0..h_L of the batch, each [rows, seq, hidden] row-major from its position 0
   * @return per row of the batch, its values as laid out above
   */
  static float[][] perExample(Batch batch, List<FloatBuffer> states, int hidden) {
    int layers = states.size() - 1;
    int seq = batch.seqLen();
    long[] mask = batch.mask();
    List<SkipSpan> spans = SkipSpan.all(layers);
    float[][] out = new float[batch.batchSize()][width(layers)];
    // Rows are independent and this runs between ONNX Runtime's runs, while its threads wait: the
    // rows go side by side on the machine's cores. Absolute reads leave the shared buffers as they are.
    IntStream.range(0, batch.batchSize()).parallel().forEach(r -> {
      float[][] token = new float[layers + 1][hidden];
      double[] norm = new double[layers + 1];
      double[][] pooled = new double[layers + 1][hidden];
      double[] angularSum = new double[spans.size()];
      double[] angularFirst = new double[spans.size()];
      double[] influenceSum = new double[layers];
      int real = 0;
      boolean first = true;
      for (int t = 0; t < seq; t++) {
        if (mask[r * seq + t] == 0) {
          continue;
        }
        real++;
        for (int k = 0; k <= layers; k++) {
          states.get(k).get((r * seq + t) * hidden, token[k]);
          for (int h = 0; h < hidden; h++) {
            pooled[k][h] += token[k][h];
          }
          norm[k] = dot(token[k], token[k]);
        }
        // Every span's distance is between two of the L + 1 states: each norm is computed once.
        for (int i = 0; i < spans.size(); i++) {
          SkipSpan s = spans.get(i);
          double c = cosine(dot(token[s.start()], token[s.end() + 1]), norm[s.start()], norm[s.end() + 1]);
          double a = angular(c);
          angularSum[i] += a;
          if (first) {
            angularFirst[i] = a;
          }
          if (s.start() == s.end()) {
            influenceSum[s.start()] += 1 - c;
          }
        }
        first = false;
      }
      int at = 0;
      for (int i = 0; i < spans.size(); i++) {
        SkipSpan s = spans.get(i);
        out[r][at++] = real == 0 ? Float.NaN : (float) (angularSum[i] / real);
        out[r][at++] = real == 0 ? Float.NaN : (float) angularFirst[i];
        out[r][at++] = real == 0 ? Float.NaN : (float) angular(cosine(pooled[s.start()], pooled[s.end() + 1]));
      }
      for (int k = 0; k < layers; k++) {
        out[r][at++] = real == 0 ? Float.NaN : (float) (influenceSum[k] / real);
      }
    });
    return out;
  }

  /**
   * Each row's state mean-pooled over its real tokens.
   *
   * @param state [copies · rows, seq, hidden] row-major from its position 0: {@code copies} stacked
   *     states of the batch, whose rows all share the batch's mask
   * @return [copies · rows][hidden]
   */
  static float[][] pooled(Batch batch, FloatBuffer state, int copies, int hidden) {
    int n = batch.batchSize();
    int seq = batch.seqLen();
    long[] mask = batch.mask();
    float[][] out = new float[copies * n][hidden];
    IntStream.range(0, copies * n).parallel().forEach(row -> {
      int c = row / n;
      int r = row % n;
      float[] token = new float[hidden];
      double[] sum = new double[hidden];
      int real = 0;
      for (int t = 0; t < seq; t++) {
        if (mask[r * seq + t] != 0) {
          real++;
          state.get(((c * n + r) * seq + t) * hidden, token);
          for (int h = 0; h < hidden; h++) {
            sum[h] += token[h];
          }
        }
      }
      for (int h = 0; h < hidden; h++) {
        out[row][h] = real == 0 ? Float.NaN : (float) (sum[h] / real);
      }
    });
    return out;
  }

  /** The position of span S..E's values in an example's row, for a model of {@code layers} layers. */
  static int spanOffset(SkipSpan span, int layers) {
    return PER_SPAN * SkipSpan.all(layers).indexOf(span);
  }

  /** The position of layer k's Block Influence in an example's row. */
  static int influenceOffset(int k, int layers) {
    return PER_SPAN * layers * (layers + 1) / 2 + k;
  }

  /** arccos(cos)/π, in [0, 1]: 0 for the same direction, 1 for opposite ones. */
  static double angular(double cosine) {
    return Math.acos(Math.max(-1, Math.min(1, cosine))) / Math.PI;
  }

  private static double dot(float[] a, float[] b) {
    double dot = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
    }
    return dot;
  }

  /** The cosine from a dot product and two squared norms; 1 when both vectors are zero (nothing changed), 0 when only one is. */
  private static double cosine(double dot, double normA, double normB) {
    return normA == 0 && normB == 0 ? 1 : normA == 0 || normB == 0 ? 0 : dot / Math.sqrt(normA * normB);
  }

  static double cosine(float[] a, float[] b) {
    return cosine(dot(a, b), dot(a, a), dot(b, b));
  }

  static double cosine(double[] a, double[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return cosine(dot, na, nb);
  }
}
