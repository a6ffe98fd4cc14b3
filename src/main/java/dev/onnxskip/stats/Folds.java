package dev.onnxskip.stats;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * A deterministic split of n examples into k folds for cross-fitting: the examples are shuffled by a
 * fixed seed and the j-th of the shuffled order goes to fold {@code j mod k}. Every cross-fitted
 * figure of a run (recalibration, head refit) uses the same split, so that they are comparable.
 *
 * @param fold each example's fold, in 0..count-1
 */
public record Folds(int count, int[] fold) {

  /** Folds are drawn by this seed, so that cross-fitted predictions are the same on every run. */
  private static final long SEED = 0x5EED_0FF5E7L;

  /** @throws IllegalArgumentException unless 2 ≤ k ≤ n */
  public static Folds of(int n, int k) {
    if (k < 2 || k > n) {
      throw new IllegalArgumentException(k + " folds for " + n + " examples: need between 2 and the number of examples");
    }
    List<Integer> order = new ArrayList<>(IntStream.range(0, n).boxed().toList());
    Collections.shuffle(order, new Random(SEED));
    int[] fold = new int[n];
    for (int j = 0; j < n; j++) {
      fold[order.get(j)] = j % k;
    }
    return new Folds(k, fold);
  }

  /** The examples outside fold {@code f}, which a model scoring fold f is fitted on. */
  public int[] training(int f) {
    return IntStream.range(0, fold.length).filter(i -> fold[i] != f).toArray();
  }

  /** The examples of fold {@code f}. */
  public int[] held(int f) {
    return IntStream.range(0, fold.length).filter(i -> fold[i] == f).toArray();
  }
}
