package dev.onnxskip.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.eval.Metrics;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.VariantResult;
import dev.onnxskip.rewrite.SkipSpan;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SummaryTest {
  private static final int NEG = 0;
  private static final int POS = 1;

  private static List<String> names(List<VariantResult> variants) {
    return variants.stream().map(VariantResult::name).toList();
  }

  @Test
  void mostHarmfulSpansHaveTheLowestAccuracyShorterFirstOnTies() {
    RunResults r = HandRun.results();
    assertEquals(List.of("0-2", "2-2", "0-0"), names(Summary.mostHarmful(r, NEG, 3)));
    // 1-1 and 1-2 tie with the baseline's .8 on pos: no harm, so not listed.
    assertEquals(List.of("0-1", "0-0"), names(Summary.mostHarmful(r, POS, 3)));
  }

  @Test
  void mostHarmlessSpansHaveTheHighestAccuracyLongerFirstOnTies() {
    RunResults r = HandRun.results();
    // 1-2 and 1-1 tie at .9 on neg: removing two layers for free beats removing one.
    assertEquals(List.of("0-1", "1-2", "1-1"), names(Summary.mostHarmless(r, NEG, 3)));
    assertEquals(List.of("0-2", "2-2", "1-2"), names(Summary.mostHarmless(r, POS, 3)));
  }

  @Test
  void collapsedVariantsPredictOneLabelAlmostAlways() {
    assertEquals(List.of("0-1", "0-2"), names(Summary.collapsed(HandRun.results())));
    // 19 of 20 predictions on one label is 95%: collapsed; 18 of 20 is not.
    List<String> labels = List.of("a", "b");
    Metrics nineteen = new Metrics(labels, new long[][] {{10, 0}, {9, 1}});
    Metrics eighteen = new Metrics(labels, new long[][] {{10, 0}, {8, 2}});
    RunResults r = new RunResults(Map.of(), Map.of(), labels, 2, List.of(VariantResult.baseline(eighteen),
        new VariantResult(new SkipSpan(0, 0), nineteen), new VariantResult(new SkipSpan(1, 1), eighteen)), "t");
    assertEquals(List.of("0-0"), names(Summary.collapsed(r)));
  }

  @Test
  void markdownNamesBaselineRankingsAndCollapse() {
    String md = Summary.markdown(HandRun.results());
    assertTrue(md.contains("| neg | 10 | 0.900 |\n| pos | 10 | 0.800 |\n"), md);
    assertTrue(md.contains("Accuracy 0.850, macro-F1 0.850 on 20 examples; 3 layers, 6 of 6 spans evaluated."), md);
    String neg = md.substring(md.indexOf("## neg"), md.indexOf("## pos"));
    String harmful = neg.substring(neg.indexOf("Most harmful"), neg.indexOf("Most harmless"));
    assertEquals(List.of("0-2", "2-2", "0-0"), spansIn(harmful));
    assertTrue(harmful.contains("| 0-2 | 3 | 0.000 | -0.900 |"), harmful);
    assertEquals(List.of("0-1", "1-2", "1-1"), spansIn(neg.substring(neg.indexOf("Most harmless"))));
    assertTrue(md.contains("- 0-1: 100.0% of predictions are neg (50.0% of the gold labels)\n"), md);
    assertTrue(md.contains("- 0-2: 100.0% of predictions are pos (50.0% of the gold labels)\n"), md);
  }

  @Test
  void fewSpansAreNotListedAsBothHarmfulAndHarmless() {
    List<String> labels = List.of("a", "b");
    Metrics good = new Metrics(labels, new long[][] {{5, 0}, {0, 5}});
    Metrics bad = new Metrics(labels, new long[][] {{2, 3}, {0, 5}});
    RunResults r = new RunResults(Map.of(), Map.of(), labels, 2, List.of(VariantResult.baseline(good),
        new VariantResult(new SkipSpan(0, 0), bad), new VariantResult(new SkipSpan(0, 1), good),
        new VariantResult(new SkipSpan(1, 1), good)), "t");
    String a = Summary.markdown(r);
    a = a.substring(a.indexOf("## a"), a.indexOf("## b"));
    assertEquals(List.of("0-0"), spansIn(a.substring(0, a.indexOf("Most harmless"))));
    assertEquals(List.of("0-1"), spansIn(a.substring(a.indexOf("Most harmless"))));
    assertTrue(Summary.markdown(r).contains("No variant predicts one label for 95.0% or more of the examples."));
  }

  @Test
  void labelWithoutExamplesIsNotRanked() {
    List<String> labels = List.of("a", "b|c");
    Metrics m = new Metrics(labels, new long[][] {{5, 1}, {0, 0}});
    RunResults r = new RunResults(Map.of(), Map.of(), labels, 1,
        List.of(VariantResult.baseline(m), new VariantResult(new SkipSpan(0, 0), m)), "t");
    String md = Summary.markdown(r);
    assertTrue(md.contains("| b\\|c | 0 | n/a |"), md);
    assertTrue(md.contains("## b|c\n\nNo examples of this label: spans not ranked."), md);
  }

  @Test
  void harmfulTiesBelowTheBaselineListTheShorterSpanFirst() {
    List<String> labels = List.of("a", "b");
    Metrics base = new Metrics(labels, new long[][] {{5, 0}, {0, 5}});
    Metrics worse = new Metrics(labels, new long[][] {{3, 2}, {0, 5}});
    RunResults r = new RunResults(Map.of(), Map.of(), labels, 2, List.of(VariantResult.baseline(base),
        new VariantResult(new SkipSpan(0, 1), worse), new VariantResult(new SkipSpan(1, 1), worse)), "t");
    assertEquals(List.of("1-1", "0-1"), names(Summary.mostHarmful(r, 0, 3)));
  }

  @Test
  void whenEverySpanTiesWithTheBaselineNoneIsCalledHarmful() {
    List<String> labels = List.of("a", "b");
    Metrics m = new Metrics(labels, new long[][] {{4, 1}, {2, 3}});
    RunResults r = new RunResults(Map.of(), Map.of(), labels, 2, List.of(VariantResult.baseline(m),
        new VariantResult(new SkipSpan(0, 0), m), new VariantResult(new SkipSpan(0, 1), m),
        new VariantResult(new SkipSpan(1, 1), m)), "t");
    assertEquals(List.of(), Summary.mostHarmful(r, 0, 3));
    String md = Summary.markdown(r);
    assertTrue(!md.contains("Most harmful"), md);
    assertTrue(md.contains("## a\n\nNo span lowers the accuracy on this label below the baseline's 0.800.\n"), md);
    assertTrue(md.contains("## b\n\nNo span lowers the accuracy on this label below the baseline's 0.600.\n"), md);
    assertEquals(List.of("0-1"), spansIn(md.substring(md.indexOf("## a"), md.indexOf("## b"))),
        "the harmless list still names the longest free span");
  }

  @Test
  void beginsWithEveryVariantsAccuracyAndMacroF1() {
    String md = Summary.markdown(HandRun.results());
    assertTrue(md.startsWith("## Variants\n\n| variant | layers skipped | accuracy | change | macro-F1 | change |\n"), md);
    List<String> rows = md.substring(0, md.indexOf("## Baseline")).lines().filter(l -> l.startsWith("| ") && !l.startsWith("| variant"))
        .toList();
    assertEquals(7, rows.size(), "the baseline and six spans: " + rows);
    // Baseline macro-F1: neg 2*9/(10+11) and pos 2*8/(10+9), averaged.
    double baseF1 = (18.0 / 21 + 16.0 / 19) / 2;
    assertEquals(String.format(java.util.Locale.ROOT, "| baseline | 0 | 0.850 | +0.000 | %.3f | +0.000 |", baseF1), rows.get(0));
    // 0-1 predicts neg for all 20: accuracy .5, F1 neg 2*10/(10+20), pos 0.
    assertEquals(String.format(java.util.Locale.ROOT, "| 0-1 | 2 | 0.500 | -0.350 | 0.333 | %+.3f |", 1.0 / 3 - baseF1), rows.get(2));
  }

  @Test
  void theSavedFileNamesEachLabelsHeatmaps() {
    List<String> labels = List.of("正面", "负面", "a/b (x)");
    Metrics m = new Metrics(labels, new long[][] {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}});
    RunResults r = new RunResults(Map.of(), Map.of(), labels, 1,
        List.of(VariantResult.baseline(m), new VariantResult(new SkipSpan(0, 0), m)), "t");
    String file = Summary.file(r);
    assertTrue(file.startsWith(Summary.markdown(r)), "the printed summary first");
    assertTrue(file.contains("| 正面 | [heatmap-正面.png](<heatmap-正面.png>) | [heatmap-正面-delta.png](<heatmap-正面-delta.png>) |\n"), file);
    assertTrue(file.contains("| 负面 | [heatmap-负面.png](<heatmap-负面.png>) |"), file);
    assertTrue(file.contains("| a/b (x) | [heatmap-a_b__x_.png](<heatmap-a_b__x_.png>) |"), file);
  }

  /** The spans named in the first column of the Markdown table rows. */
  private static List<String> spansIn(String markdown) {
    return markdown.lines().filter(l -> l.matches("\\| \\d+-\\d+ \\|.*")).map(l -> l.split(" ")[1]).toList();
  }
}
