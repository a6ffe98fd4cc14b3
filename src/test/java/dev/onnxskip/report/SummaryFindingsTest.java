package dev.onnxskip.report;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.ShiftLossRun;
import org.junit.jupiter.api.Test;

/**
 * With statistics, the summary calls harmful only the significant drops and tells each as a
 * decision shift or an information loss, on {@link ShiftLossRun}: span 0-0 only moves the decision,
 * 1-1 destroys the information and 2-2 breaks a single example.
 */
class SummaryFindingsTest {

  static RunResults results() {
    return ShiftLossRun.results();
  }

  /** The section of label {@code label}: from its heading to the next. */
  static String section(String md, String label) {
    int start = md.indexOf("\n## " + label + "\n");
    int end = md.indexOf("\n## ", start + 1);
    return md.substring(start, end < 0 ? md.length() : end);
  }

  /**
   * The baseline's table gives each label's Wilson interval, worked by hand for 98 of 100: centre
   * (0.98 + 1.96²/200) / (1 + 1.96²/100) = 0.9622, half-width 1.96·√(0.98·0.02/100 + 1.96²/40000) /
   * 1.0384 = 0.0323, so [0.930, 0.994].
   */
  @Test
  void theBaselineTableGivesIntervalsAndTheSmallestDetectableDrop() {
    String md = Summary.markdown(results());
    assertTrue(md.contains("| label | support | accuracy | 95% interval | smallest detectable drop |"), md);
    assertTrue(md.matches("(?s).*\\| a \\| 100 \\| 0\\.980 \\| \\[0\\.930, 0\\.994\\] \\| 0\\.[0-9]{3} \\|.*"), md);
  }

  @Test
  void harmfulSpansAreTheSignificantOnesEachToldAsShiftOrLoss() {
    String md = Summary.markdown(results());
    String a = section(md, "a");
    // On a, 0-0 sends everything to b (a shift) and 1-1 keeps predicting a: no harm there.
    assertTrue(a.matches("(?s).*\\| 0-0 \\| 0\\.000 \\| -0\\.980 \\|.*\\| decision shift \\|.*"), a);
    assertFalse(a.contains("| 2-2 | 0.970"), "one broken example is no finding: " + a);
    assertTrue(a.contains("On a, 1 of 3 spans lower the accuracy beyond chance (Holm, alpha 0.05): 1 by shifting the decision"
        + " (recalibration restores it) and 0 by losing information."), a);
    String b = section(md, "b");
    assertTrue(b.matches("(?s).*\\| 1-1 \\| 0\\.000 \\| -0\\.980 \\|.*\\| information loss \\|.*"), b);
    assertTrue(b.contains("On b, 1 of 3 spans lower the accuracy beyond chance"), b);
  }
}
