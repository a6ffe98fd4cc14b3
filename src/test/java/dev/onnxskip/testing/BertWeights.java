package dev.onnxskip.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * All parameters of a synthetic model, drawn from the spec's seed in one fixed order that does not depend on
 * naming, layer-norm form or head. So two specs that differ only in those produce the same weights, and an
 * ENCODER, BERT, ANONYMOUS or SCRAMBLED build of one spec computes the very same function.
 *
 * <p>Matrices are stored as the exporter stores a torch Linear: {@code [in, out]}, row-major, so that
 * {@code y = x · W + b}. Values are small (N(0, 0.1)) so activations stay well inside float range; layer
 * norm gains sit near 1.
 */
record BertWeights(
    Param wordEmbeddings, Param positionEmbeddings, Param tokenTypeEmbeddings, Norm embeddingNorm,
    List<Layer> layers, Linear pooler, Linear classifier) {

  /** A tensor's dims and row-major values. */
  record Param(long[] dims, float[] values) {
    /** The first {@code rows} rows of a matrix, e.g. RoBERTa's single token-type row. */
    Param firstRows(int rows) {
      int width = (int) dims[1];
      float[] head = new float[rows * width];
      System.arraycopy(values, 0, head, 0, head.length);
      return new Param(new long[] {rows, width}, head);
    }
  }

  record Linear(Param weight, Param bias) {}

  record Norm(Param gamma, Param beta) {}

  record Layer(Linear query, Linear key, Linear value, Linear attentionOutput, Norm attentionNorm,
      Linear intermediate, Linear output, Norm outputNorm) {}

  /** Token types: BERT has two segments; RoBERTa uses only the first row. */
  static final int TYPE_VOCAB = 2;

  static BertWeights draw(SyntheticBert.Spec spec) {
    Draw draw = new Draw(new Random(spec.seed()));
    int h = spec.hidden();
    Param word = draw.normal(0.1, spec.vocab(), h);
    Param position = draw.normal(0.1, spec.maxPositions(), h);
    Param tokenType = draw.normal(0.1, TYPE_VOCAB, h);
    Norm embeddingNorm = draw.norm(h);
    List<Layer> layers = new ArrayList<>();
    for (int i = 0; i < spec.layers(); i++) {
      layers.add(new Layer(draw.linear(h, h), draw.linear(h, h), draw.linear(h, h), draw.linear(h, h),
          draw.norm(h), draw.linear(h, spec.intermediate()), draw.linear(spec.intermediate(), h), draw.norm(h)));
    }
    Linear pooler = draw.linear(h, h);
    Linear classifier = draw.linear(h, spec.numLabels());
    return new BertWeights(word, position, tokenType, embeddingNorm, List.copyOf(layers), pooler, classifier);
  }

  private record Draw(Random random) {
    Param normal(double std, int... shape) {
      int n = 1;
      long[] dims = new long[shape.length];
      for (int i = 0; i < shape.length; i++) {
        n *= shape[i];
        dims[i] = shape[i];
      }
      float[] values = new float[n];
      for (int i = 0; i < n; i++) {
        values[i] = (float) (random.nextGaussian() * std);
      }
      return new Param(dims, values);
    }

    Linear linear(int in, int out) {
      return new Linear(normal(0.1, in, out), normal(0.05, out));
    }

    Norm norm(int width) {
      Param gamma = normal(0.05, width);
      for (int i = 0; i < width; i++) {
        gamma.values()[i] += 1f;
      }
      return new Norm(gamma, normal(0.05, width));
    }
  }
}
