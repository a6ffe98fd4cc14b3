package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.UsageException;
import dev.onnxskip.rewrite.Variant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The findings tell the three kinds of span of {@link ShiftLossRun} apart: one that only moves the
 * decision, one that destroys the information, and one whose effect is too small to be sure of.
 */
class FindingsTest {
  static final List<String> LABELS = ShiftLossRun.LABELS;

  static Findings findings(Findings.Settings settings) {
    return ShiftLossRun.findings(settings);
  }

  @Test
  void aShiftKeepsTheAurocAndRecalibrationRestoresIt() {
    Findings.VariantFindings base = findings(Findings.Settings.DEFAULT).variants().get(0);
    Findings.VariantFindings shift = findings(Findings.Settings.DEFAULT).variants().get(1);
    Findings.Figures a = shift.groups().get(0);
    // Label a: every example now predicted b (the +10 outweighs every margin of at most 4).
    assertEquals(0.0, a.accuracy().getAsDouble());
    assertEquals(base.groups().get(0).auroc().getAsDouble(), a.auroc().getAsDouble(), 1e-12, "the order of the scores is kept");
    assertEquals(0.98, a.recalibratedAccuracy().getAsDouble(), 0.02, "an offset per class undoes the shift");
    assertTrue(a.change().orElseThrow().significant());
    // 98 of label a were right and are now wrong; the 2 wrong ones stay wrong.
    assertEquals(0, a.change().get().test().fixed());
    assertEquals(98, a.change().get().test().broken());
    // Everything predicted b, against a gold split of one half each: KL = log 2.
    assertEquals(Math.log(2), shift.klFromGold(), 1e-12);
    assertEquals(0.0, base.klFromGold(), 1e-12);
  }

  @Test
  void aLossTakesTheAurocAndTheRecalibratedAccuracyToo() {
    Findings.VariantFindings loss = findings(Findings.Settings.DEFAULT).variants().get(2);
    Findings.Figures b = loss.groups().get(1);
    assertEquals(0.0, b.accuracy().getAsDouble(), "every example predicted a");
    assertEquals(0.5, b.auroc().getAsDouble(), 1e-12, "equal scores for all: chance");
    assertEquals(0.5, loss.overall().auroc().getAsDouble(), 1e-12);
    assertTrue(loss.overall().recalibratedAccuracy().getAsDouble() <= 0.5 + 1e-12, "nothing left to recalibrate");
  }

  /** One broken example: p = 1 by McNemar (b = 0, c = 1: 2 * 1/2), far from significant. */
  @Test
  void anEffectBelowTheDetectableSizeIsNotSignificant() {
    Findings.VariantFindings small = findings(Findings.Settings.DEFAULT).variants().get(3);
    Findings.Change a = small.groups().get(0).change().orElseThrow();
    assertEquals(1, a.test().broken());
    assertEquals(1.0, a.test().pValue(), 1e-12);
    assertFalse(a.significant());
    // A change of one example in 100 is below what 100 examples can detect.
    double drop = findings(Findings.Settings.DEFAULT).variants().get(0).groups().get(0).detectable().orElseThrow().drop().getAsDouble();
    assertTrue(drop > 0.01, "detectable drop " + drop);
    assertTrue(small.groups().get(1).change().orElseThrow().test().pValue() == 1.0, "label b untouched");
  }

  /**
   * Holm over the family: the smallest of m p-values is multiplied by m. Overall, SHIFT breaks 98
   * examples of a and fixes the 2 wrong ones of b: p = 2 P(X <= 2), X ~ Bin(100, 1/2), times 9 tests.
   */
  @Test
  void holmAdjustsOverEverySpanAndGroup() {
    Findings f = findings(Findings.Settings.DEFAULT);
    Findings.Change overall = f.variants().get(1).overall().change().orElseThrow();
    assertEquals(2, overall.test().fixed());
    assertEquals(98, overall.test().broken());
    double tail = (1 + 100 + 4950) / Math.pow(2, 100);
    assertEquals(2 * tail, overall.test().pValue(), 1e-40);
    double smallest = f.variants().stream().skip(1).flatMap(v -> v.groups().stream())
        .mapToDouble(g -> g.change().orElseThrow().test().pValue()).min().orElseThrow();
    double adjustedSmallest = f.variants().stream().skip(1).flatMap(v -> v.groups().stream())
        .map(g -> g.change().orElseThrow()).filter(c -> c.test().pValue() == smallest).findFirst().orElseThrow().holm();
    assertEquals(Math.min(1, 9 * smallest), adjustedSmallest, smallest * 1e-9, "9 tests: 3 spans, 2 labels and overall");
  }

  @Test
  void theBootstrapIsOptionalAndTheSameEveryRun() {
    Findings.Change off = findings(new Findings.Settings(0.05, 0, 5)).variants().get(1).overall().change().orElseThrow();
    assertTrue(off.interval().isEmpty());
    Findings.Change once = findings(Findings.Settings.DEFAULT).variants().get(1).overall().change().orElseThrow();
    Findings.Change again = findings(Findings.Settings.DEFAULT).variants().get(1).overall().change().orElseThrow();
    assertEquals(once.interval(), again.interval());
    double observed = (2 - 98) / 200.0;
    assertTrue(once.interval().get().lower() <= observed && observed <= once.interval().get().upper());
  }

  @Test
  void badSettingsAreUsageErrorsNamingTheOption() {
    assertEquals("--alpha must lie between 0 and 1, got 0.0",
        assertThrows(UsageException.class, () -> new Findings.Settings(0, 1000, 5)).getMessage());
    assertEquals("--alpha must lie between 0 and 1, got 1.5",
        assertThrows(UsageException.class, () -> new Findings.Settings(1.5, 1000, 5)).getMessage());
    assertEquals("--bootstrap must be 0 (none) or more resamples, got -1",
        assertThrows(UsageException.class, () -> new Findings.Settings(0.05, -1, 5)).getMessage());
    assertEquals("--folds must be at least 2, got 1",
        assertThrows(UsageException.class, () -> new Findings.Settings(0.05, 1000, 1)).getMessage());
    int[] threeOfB = {0, 0, 0, 0, 0, 1, 1, 1};
    assertEquals("--folds 5 is more than the 3 examples of label 'b'; use --folds 3 or less",
        assertThrows(UsageException.class, () -> Findings.checkFolds(new Findings.Settings(0.05, 1000, 5), LABELS, threeOfB))
            .getMessage());
    Findings.checkFolds(Findings.Settings.DEFAULT, LABELS, threeOfB); // the default adapts instead
  }

  /** The default folds are cut to the smallest label; a label of one example leaves none to cross-fit with. */
  @Test
  void theDefaultFoldsFitTheSmallestLabel() {
    int[] gold = {0, 0, 0, 0, 0, 0, 1, 1, 1};
    float[][] logits = new float[gold.length][];
    for (int i = 0; i < gold.length; i++) {
      logits[i] = new float[] {gold[i] == 0 ? 1 : 0, gold[i]};
    }
    Map<Variant, float[][]> only = Map.of(Variant.BASELINE, logits);
    assertEquals(3, Findings.of(Findings.Settings.DEFAULT, LABELS, gold, List.of(Variant.BASELINE), only).folds());
    int[] single = {0, 0, 0, 1};
    Map<Variant, float[][]> four = Map.of(Variant.BASELINE, java.util.Arrays.copyOf(logits, 4));
    Findings none = Findings.of(Findings.Settings.DEFAULT, LABELS, single, List.of(Variant.BASELINE), four);
    assertEquals(0, none.folds());
    assertTrue(none.variants().get(0).overall().recalibratedAccuracy().isEmpty());
  }
}
