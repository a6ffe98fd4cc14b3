package dev.onnxskip.stats;

/**
 * Linear centred kernel alignment (Kornblith et al. 2019) between two representations of the same
 * examples: 1 when one is a rotation and uniform scaling of the other, near 0 when they share no
 * linear structure.
 *
 * <p>Computed in its feature-space form, CKA = ‖ỸᵀX̃‖²_F / (‖X̃ᵀX̃‖_F ‖ỸᵀỸ‖_F) with X̃ and Ỹ the
 * examples' features centred on their mean, which equals the Gram-matrix form ⟨K̃, L̃⟩ / (‖K̃‖ ‖L̃‖)
 * but holds d × d sums instead of an n × n matrix: memory stays at the size of the features
 * themselves however many examples a run has (a Gram matrix of 25,000 examples would be 5 GB).
 */
public final class LinearCka {
  private LinearCka() {}

  /**
   * A representation of a subset of the examples, centred on the subset's mean, with ‖X̃ᵀX̃‖_F: the
   * part of CKA that depends on one side only, computed once for all its comparisons.
   */
  public static final class Centred {
    private final double[][] rows;
    private final double selfNorm;

    private Centred(double[][] rows, double selfNorm) {
      this.rows = rows;
      this.selfNorm = selfNorm;
    }

    int size() {
      return rows.length;
    }
  }

  /** The examples {@code rows} of {@code x}, centred, with their own norm. */
  public static Centred centred(float[][] x, int[] rows) {
    int m = rows.length;
    int d = m == 0 ? 0 : x[rows[0]].length;
    double[] mean = new double[d];
    for (int r : rows) {
      for (int h = 0; h < d; h++) {
        mean[h] += x[r][h];
      }
    }
    for (int h = 0; h < d; h++) {
      mean[h] /= Math.max(1, m);
    }
    double[][] c = new double[m][d];
    for (int i = 0; i < m; i++) {
      float[] row = x[rows[i]];
      for (int h = 0; h < d; h++) {
        c[i][h] = row[h] - mean[h];
      }
    }
    // X̃ᵀX̃ is symmetric: its upper triangle, the off-diagonal counted twice.
    double[][] self = cross(c, c, true);
    double sum = 0;
    for (int i = 0; i < d; i++) {
      sum += self[i][i] * self[i][i];
      for (int j = i + 1; j < d; j++) {
        sum += 2 * self[i][j] * self[i][j];
      }
    }
    return new Centred(c, Math.sqrt(sum));
  }

  /**
   * CKA between two representations of the same examples, in the same order; NaN with fewer than two
   * examples, or where either representation is the same for all of them.
   */
  public static double of(Centred a, Centred b) {
    if (a.size() != b.size()) {
      throw new IllegalArgumentException("CKA compares the same examples: " + a.size() + " and " + b.size() + " rows");
    }
    if (a.size() < 2 || a.selfNorm == 0 || b.selfNorm == 0) {
      return Double.NaN;
    }
    double[][] ab = cross(a.rows, b.rows, false);
    double sum = 0;
    for (double[] row : ab) {
      for (double v : row) {
        sum += v * v;
      }
    }
    return sum / (a.selfNorm * b.selfNorm);
  }

  /**
   * AᵀB over the rows, as one row of A times B's row added into the product's rows, so that the inner
   * loop runs along contiguous memory; only j ≥ i where {@code upper}.
   */
  private static double[][] cross(double[][] a, double[][] b, boolean upper) {
    int da = a.length == 0 ? 0 : a[0].length;
    int db = b.length == 0 ? 0 : b[0].length;
    double[][] out = new double[da][db];
    for (int r = 0; r < a.length; r++) {
      double[] ar = a[r];
      double[] br = b[r];
      for (int i = 0; i < da; i++) {
        double v = ar[i];
        double[] o = out[i];
        for (int j = upper ? i : 0; j < db; j++) {
          o[j] += v * br[j];
        }
      }
    }
    return out;
  }
}
