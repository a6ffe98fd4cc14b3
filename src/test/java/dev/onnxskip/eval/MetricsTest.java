package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.OnnxSkipException;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsTest {
  private static final List<String> ABC = List.of("a", "b", "c");
  private static final double EPS = 1e-12;

  /**
   * gold a: 4 right, 1 as b, 1 as c; gold b: 2 as a, 2 right; no gold c. Predicted a=6, b=3, c=1.
   */
  private static Metrics sample() {
    return new Metrics(ABC, new long[][] {{4, 1, 1}, {2, 2, 0}, {0, 0, 0}});
  }

  @Test
  void countsPredictionsAgainstGold() {
    int[] gold = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1};
    int[] predicted = {0, 1, 0, 2, 0, 0, 0, 1, 1, 0};
    Metrics m = Metrics.of(ABC, gold, predicted);
    assertEquals(sample(), m);
    assertEquals(10, m.total());
  }

  @Test
  void overallScores() {
    Metrics m = sample();
    assertEquals(0.6, m.accuracy(), EPS);
    assertArrayEquals(new long[] {6, 3, 1}, m.predictedCounts());
    assertArrayEquals(new long[] {6, 4, 0}, m.supportCounts());
    // F1: a = 2*4/(6+6), b = 2*2/(4+3); c has no gold examples, so no F1, and stays out of the mean.
    assertEquals((8.0 / 12 + 4.0 / 7) / 2, m.macroF1(), EPS);
  }

  @Test
  void perLabelScores() {
    List<LabelScore> scores = sample().perLabel();
    assertEquals(List.of("a", "b", "c"), scores.stream().map(LabelScore::label).toList());

    LabelScore a = scores.get(0);
    assertEquals(6, a.support());
    assertEquals(6, a.predicted());
    assertEquals(4.0 / 6, a.accuracy(), EPS);
    assertEquals(4.0 / 6, a.precision(), EPS);
    assertEquals(2.0 / 3, a.f1(), EPS);

    LabelScore b = scores.get(1);
    assertEquals(0.5, b.accuracy(), EPS);
    assertEquals(2.0 / 3, b.precision(), EPS);
    // 2PR/(P+R) = 2 * (2/3) * (1/2) / (2/3 + 1/2) = 4/7
    assertEquals(4.0 / 7, b.f1(), EPS);

    LabelScore c = scores.get(2);
    assertEquals(0, c.support());
    assertTrue(Double.isNaN(c.accuracy()), "accuracy of a label with no examples is undefined");
    assertEquals(0.0, c.precision(), "predicted once, and wrongly");
    assertTrue(Double.isNaN(c.f1()), "no recall, so no F1");
  }

  @Test
  void neverPredictedLabelScoresZeroAndAbsentLabelIsUndefinedAndLeavesMacroF1() {
    // c is neither gold nor predicted; b is never predicted.
    Metrics m = new Metrics(ABC, new long[][] {{3, 0, 0}, {1, 0, 0}, {0, 0, 0}});
    LabelScore b = m.perLabel().get(1);
    assertEquals(0.0, b.accuracy());
    assertEquals(0.0, b.precision());
    assertEquals(0.0, b.f1());
    LabelScore c = m.perLabel().get(2);
    assertTrue(Double.isNaN(c.accuracy()) && Double.isNaN(c.precision()) && Double.isNaN(c.f1()),
        "neither gold nor predicted: every score undefined, " + c);
    // a: tp 3, support 3, predicted 4 -> 6/7; b: 0; c left out.
    assertEquals((6.0 / 7 + 0) / 2, m.macroF1(), EPS);
    assertEquals(0.75, m.accuracy(), EPS);
  }

  @Test
  void perfectAndEmpty() {
    Metrics perfect = Metrics.of(List.of("x", "y"), new int[] {0, 1, 1}, new int[] {0, 1, 1});
    assertEquals(1.0, perfect.accuracy());
    assertEquals(1.0, perfect.macroF1());
    Metrics empty = Metrics.of(List.of("x", "y"), new int[0], new int[0]);
    assertEquals(0, empty.total());
    assertTrue(Double.isNaN(empty.accuracy()));
    assertTrue(Double.isNaN(empty.macroF1()));
  }

  @Test
  void confusionIsImmutable() {
    long[][] counts = {{1, 0}, {0, 1}};
    Metrics m = new Metrics(List.of("x", "y"), counts);
    counts[0][0] = 99;
    m.confusion()[1][1] = 99;
    assertEquals(1, m.count(0, 0));
    assertEquals(1, m.count(1, 1));
    assertNotEquals(m, new Metrics(List.of("x", "y"), new long[][] {{1, 1}, {0, 1}}));
  }

  @Test
  void predictionOutsideLabelsNamesTheExample() {
    var e = assertThrows(OnnxSkipException.class,
        () -> Metrics.of(List.of("x", "y"), new int[] {0, 1, 0}, new int[] {0, 1, 2}));
    assertEquals("example 2: predicted label index 2 is outside the 2 labels [x, y]", e.getMessage());
  }

  @Test
  void rejectsMalformedMatrices() {
    assertThrows(IllegalArgumentException.class, () -> new Metrics(ABC, new long[][] {{1, 0}, {0, 1}}));
    assertThrows(IllegalArgumentException.class,
        () -> new Metrics(List.of("x", "y"), new long[][] {{1, 0}, {0, -1}}));
    assertThrows(IllegalArgumentException.class,
        () -> new Metrics(List.of("x", "x"), new long[][] {{1, 0}, {0, 1}}));
    assertThrows(IllegalArgumentException.class,
        () -> Metrics.of(ABC, new int[] {0, 1}, new int[] {0}));
  }
}
