package dev.onnxskip.report;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.eval.Findings;
import dev.onnxskip.eval.Metrics;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.VariantResult;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.Variant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * With statistics, the summary calls harmful only the significant drops and tells each as a
 * decision shift or an information loss: here on logits built so that span 0-0 only moves the
 * decision, 1-1 destroys the information and 2-2 breaks a single example.
 */
class SummaryFindingsTest {
  static final List<String> LABELS = List.of("a", "b");
  static final int PER_LABEL = 100;

  static RunResults results() {
    int[] gold = new int[2 * PER_LABEL];
    for (int i = PER_LABEL; i < gold.length; i++) {
      gold[i] = 1;
    }
    Random random = new Random(11);
    float[][] base = new float[gold.length][];
    float[][] shift = new float[gold.length][];
    float[][] loss = new float[gold.length][];
    float[][] small = new float[gold.length][];
    for (int i = 0; i < gold.length; i++) {
      float margin = 1 + random.nextFloat() * 3;
      base[i] = gold[i] == 0 ? new float[] {margin, 0} : new float[] {0, margin};
      shift[i] = new float[] {base[i][0], base[i][1] + 10};
      loss[i] = new float[] {0.5f, 0};
      small[i] = base[i].clone();
    }
    small[0] = new float[] {0, 1};
    Map<Variant, float[][]> logits = new LinkedHashMap<>();
    logits.put(Variant.BASELINE, base);
    logits.put(new SkipSpan(0, 0), shift);
    logits.put(new SkipSpan(1, 1), loss);
    logits.put(new SkipSpan(2, 2), small);
    List<Variant> order = new ArrayList<>(logits.keySet());
    List<VariantResult> variants = new ArrayList<>();
    for (Variant v : order) {
      variants.add(new VariantResult(v, Metrics.of(LABELS, gold, argmax(logits.get(v)))));
    }
    Findings findings = Findings.of(Findings.Settings.DEFAULT, LABELS, gold, order, logits);
    return new RunResults(Map.of(), Map.of(), LABELS, 3, variants, "2026-01-01T00:00:00Z", Optional.of(findings));
  }

  static int[] argmax(float[][] logits) {
    int[] out = new int[logits.length];
    for (int i = 0; i < logits.length; i++) {
      out[i] = logits[i][1] > logits[i][0] ? 1 : 0;
    }
    return out;
  }

  /** The section of label {@code label}: from its heading to the next. */
  static String section(String md, String label) {
    int start = md.indexOf("\n## " + label + "\n");
    int end = md.indexOf("\n## ", start + 1);
    return md.substring(start, end < 0 ? md.length() : end);
  }

  @Test
  void harmfulSpansAreTheSignificantOnesEachToldAsShiftOrLoss() {
    String md = Summary.markdown(results());
    String a = section(md, "a");
    // On a, 0-0 sends everything to b (a shift) and 1-1 keeps predicting a: no harm there.
    assertTrue(a.matches("(?s).*\\| 0-0 \\| 0\\.000 \\| -1\\.000 \\|.*\\| decision shift \\|.*"), a);
    assertFalse(a.contains("| 2-2 | 0.990"), "one broken example is no finding: " + a);
    assertTrue(a.contains("On a, 1 of 3 spans lower the accuracy beyond chance (Holm, alpha 0.05): 1 by shifting the decision"
        + " (recalibration restores it) and 0 by losing information."), a);
    String b = section(md, "b");
    assertTrue(b.matches("(?s).*\\| 1-1 \\| 0\\.000 \\| -1\\.000 \\|.*\\| information loss \\|.*"), b);
    assertTrue(b.contains("On b, 1 of 3 spans lower the accuracy beyond chance"), b);
  }
}
