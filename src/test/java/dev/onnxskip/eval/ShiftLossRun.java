package dev.onnxskip.eval;

import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.Variant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * A run of a two-label classifier whose logits are built so that each span has one known kind of
 * effect: {@link #SHIFT} only moves the decision, {@link #LOSS} destroys the information, and
 * {@link #SMALL} breaks a single example. For the tests of the statistics and of what reports make
 * of them.
 */
public final class ShiftLossRun {
  public static final List<String> LABELS = List.of("a", "b");
  public static final int PER_LABEL = 100;
  public static final int LAYERS = 3;
  public static final SkipSpan SHIFT = new SkipSpan(0, 0);
  public static final SkipSpan LOSS = new SkipSpan(1, 1);
  public static final SkipSpan SMALL = new SkipSpan(2, 2);
  public static final List<Variant> VARIANTS = List.of(Variant.BASELINE, SHIFT, LOSS, SMALL);

  private ShiftLossRun() {}

  /** Gold: 100 of a, then 100 of b. */
  public static int[] gold() {
    int[] gold = new int[2 * PER_LABEL];
    for (int i = PER_LABEL; i < gold.length; i++) {
      gold[i] = 1;
    }
    return gold;
  }

  /**
   * The baseline separates the labels by a margin that varies per example and is right on all but
   * the last two of each label; SHIFT adds 10 to label b's logit, so that everything is predicted b
   * while the order of the scores stays; LOSS gives every example the same logits (all predicted a);
   * SMALL breaks the first example of label a.
   */
  public static Map<Variant, float[][]> logits() {
    int[] gold = gold();
    Random random = new Random(7);
    float[][] base = new float[gold.length][];
    for (int i = 0; i < gold.length; i++) {
      float margin = 1 + random.nextFloat() * 3;
      boolean wrong = i % PER_LABEL >= PER_LABEL - 2;
      float toGold = wrong ? -margin : margin;
      base[i] = gold[i] == 0 ? new float[] {toGold, 0} : new float[] {0, toGold};
    }
    float[][] shift = new float[gold.length][];
    float[][] loss = new float[gold.length][];
    float[][] small = new float[gold.length][];
    for (int i = 0; i < gold.length; i++) {
      shift[i] = new float[] {base[i][0], base[i][1] + 10};
      loss[i] = new float[] {0.5f, 0};
      small[i] = base[i].clone();
    }
    small[0] = new float[] {0, 1};
    Map<Variant, float[][]> logits = new LinkedHashMap<>();
    logits.put(Variant.BASELINE, base);
    logits.put(SHIFT, shift);
    logits.put(LOSS, loss);
    logits.put(SMALL, small);
    return logits;
  }

  public static Findings findings(Findings.Settings settings) {
    return Findings.of(settings, LABELS, gold(), VARIANTS, logits());
  }

  /** The run as eval would return it, with its findings at the default settings. */
  public static RunResults results() {
    Map<Variant, float[][]> logits = logits();
    List<VariantResult> variants = new ArrayList<>();
    for (Variant v : VARIANTS) {
      variants.add(new VariantResult(v, Metrics.of(LABELS, gold(), EvalRun.argmax(logits.get(v)))));
    }
    return new RunResults(Map.of(), Map.of(), LABELS, LAYERS, variants, "2026-01-01T00:00:00Z",
        Optional.of(findings(Findings.Settings.DEFAULT)));
  }
}
