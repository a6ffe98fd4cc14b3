package dev.onnxskip.stats;

import java.util.stream.IntStream;

/**
 * Linear centred kernel alignment (Kornblith et al. 2019) between two representations of the same
 * examples: 1 when one is a rotation and uniform scaling of the other, near 0 when they share no
 * linear structure. Computed from the examples' Gram matrices, so that one Gram matrix per
 * representation serves every subset of the examples (each label's): for a subset,
 * CKA = ⟨K̃, L̃⟩ / (‖K̃‖ ‖L̃‖) with K̃ the Gram matrix double-centred over the subset.
 */
public final class LinearCka {
  private LinearCka() {}

  /** The Gram matrix x·xᵀ of the rows of {@code x}. */
  public static double[][] gram(float[][] x) {
    int n = x.length;
    double[][] k = new double[n][n];
    IntStream.range(0, n).parallel().forEach(i -> {
      for (int j = 0; j <= i; j++) {
        double dot = 0;
        float[] a = x[i];
        float[] b = x[j];
        for (int h = 0; h < a.length; h++) {
          dot += (double) a[h] * b[h];
        }
        k[i][j] = dot;
      }
    });
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        k[i][j] = k[j][i];
      }
    }
    return k;
  }

  /**
   * CKA between the representations whose Gram matrices are {@code k} and {@code l}, over the
   * examples {@code rows}; NaN with fewer than two examples, or where either representation is the
   * same for all of them.
   */
  public static double of(double[][] k, double[][] l, int[] rows) {
    if (rows.length < 2) {
      return Double.NaN;
    }
    double[][] kc = centred(k, rows);
    double[][] lc = centred(l, rows);
    double kl = 0;
    double kk = 0;
    double ll = 0;
    for (int i = 0; i < rows.length; i++) {
      for (int j = 0; j < rows.length; j++) {
        kl += kc[i][j] * lc[i][j];
        kk += kc[i][j] * kc[i][j];
        ll += lc[i][j] * lc[i][j];
      }
    }
    return kk == 0 || ll == 0 ? Double.NaN : kl / Math.sqrt(kk * ll);
  }

  /** H K H over the subset: the Gram matrix of the rows with their mean taken out. */
  private static double[][] centred(double[][] k, int[] rows) {
    int m = rows.length;
    double[] rowMean = new double[m];
    double grand = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        rowMean[i] += k[rows[i]][rows[j]];
      }
      grand += rowMean[i];
      rowMean[i] /= m;
    }
    grand /= (double) m * m;
    double[][] c = new double[m][m];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        c[i][j] = k[rows[i]][rows[j]] - rowMean[i] - rowMean[j] + grand;
      }
    }
    return c;
  }
}
