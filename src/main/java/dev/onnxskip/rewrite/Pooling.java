package dev.onnxskip.rewrite;

/** How token states become one vector per text. */
public enum Pooling {
  /** The mean of the token states the attention mask marks as real (no padding). */
  MEAN,
  /** The state of the first token ([CLS] in BERT tokenizers). */
  CLS;

  /**
   * Pools {@code states} [batch, seq, hidden] (row-major) with the mask [batch, seq] into
   * [batch][hidden], in double precision as the head's reference computation.
   */
  public float[][] pool(float[] states, long[] mask, int batch, int seq, int hidden) {
    float[][] out = new float[batch][hidden];
    for (int b = 0; b < batch; b++) {
      if (this == CLS) {
        System.arraycopy(states, b * seq * hidden, out[b], 0, hidden);
        continue;
      }
      double[] sum = new double[hidden];
      long count = 0;
      for (int t = 0; t < seq; t++) {
        if (mask[b * seq + t] == 0) {
          continue;
        }
        count++;
        int base = (b * seq + t) * hidden;
        for (int h = 0; h < hidden; h++) {
          sum[h] += states[base + h];
        }
      }
      double denom = Math.max(count, 1e-9);
      for (int h = 0; h < hidden; h++) {
        out[b][h] = (float) (sum[h] / denom);
      }
    }
    return out;
  }
}
