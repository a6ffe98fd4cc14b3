package dev.onnxskip.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.eval.Latencies;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.VariantResult;
import dev.onnxskip.runtime.RunTimes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The speed-accuracy figure of the hand-made run, with latencies given by hand. */
class ParetoFigureTest {

  /** Batch-1 milliseconds per variant of {@link HandRun}: the baseline 10 ms. */
  private static final Map<String, Double> MILLIS = Map.of("baseline", 10.0, "0-0", 8.0, "0-1", 5.0, "0-2", 2.0, "1-1", 8.0, "1-2", 5.0,
      "2-2", 8.5);

  static Latencies latencies(RunResults results) {
    List<Latencies.VariantLatency> list = new ArrayList<>();
    RunTimes baseline = new RunTimes(1, 8, 1, runs("baseline"));
    for (VariantResult v : results.variants()) {
      RunTimes own = new RunTimes(1, 8, 1, runs(v.name()));
      list.add(new Latencies.VariantLatency(v.variant(), 100, 400, own, own, baseline, baseline));
    }
    return new Latencies(new Latencies.Settings("cpu", 2, 1, 3, 8, 8, 8), list);
  }

  private static double[] runs(String variant) {
    return new double[] {MILLIS.get(variant), MILLIS.get(variant) * 1.1, MILLIS.get(variant) * 0.9};
  }

  @Test
  void pointsAreTheVariantsSpeedUpsAndAccuracies() {
    RunResults results = HandRun.results();
    ParetoFigure figure = ParetoFigure.of(results, latencies(results));
    assertEquals(2 * results.variants().size(), figure.points().size(), "one point per variant in each series");
    Map<String, ParetoFigure.Point> overall = figure.points().stream().filter(p -> p.series() == ParetoFigure.Series.OVERALL)
        .collect(Collectors.toMap(ParetoFigure.Point::name, p -> p));
    Map<String, ParetoFigure.Point> worst = figure.points().stream().filter(p -> p.series() == ParetoFigure.Series.WORST_LABEL)
        .collect(Collectors.toMap(ParetoFigure.Point::name, p -> p));
    assertEquals(1.0, overall.get("baseline").speedup(), 0);
    // 0-0: neg 8 of 10 and pos 7 of 10 right; 10 ms / 8 ms.
    assertEquals(1.25, overall.get("0-0").speedup(), 1e-12);
    assertEquals(15 / 20.0, overall.get("0-0").accuracy(), 1e-12);
    assertEquals(0.7, worst.get("0-0").accuracy(), 1e-12);
    // 2-2: neg .7, pos .9; the worst label is neg.
    assertEquals(0.7, worst.get("2-2").accuracy(), 1e-12);
    // Overall: baseline and 1-1 (both .85, at 1x and 1.25x) lose to 1-2 (.85 at 2x), 0-1 (.5 at 2x) to 0-2 (.5 at 5x),
    // 0-0 (.75 at 1.25x) and 2-2 (.8 at 1.18x) to 1-2.
    assertEquals(List.of("0-2", "1-2"), overall.values().stream().filter(ParetoFigure.Point::front).map(ParetoFigure.Point::name)
        .sorted().toList());
  }

  @Test
  void theFrontIsWhatNoOtherPointBeatsOnBoth() {
    Random random = new Random(3);
    for (int trial = 0; trial < 200; trial++) {
      List<double[]> xy = new ArrayList<>();
      int n = 1 + random.nextInt(12);
      for (int i = 0; i < n; i++) {
        // Few distinct values, so that ties occur.
        xy.add(new double[] {random.nextInt(5), random.nextInt(5)});
      }
      boolean[] expected = new boolean[n];
      for (int i = 0; i < n; i++) {
        int at = i;
        expected[i] = xy.stream().noneMatch(o -> o[0] >= xy.get(at)[0] && o[1] >= xy.get(at)[1] && !Arrays.equals(o, xy.get(at)));
      }
      assertArrayEquals(expected, ParetoFigure.front(xy), xy.stream().map(Arrays::toString).toList().toString());
    }
  }

  @Test
  void theDrawingNamesEveryPointTheAxesAndTheBaseline() {
    RunResults results = HandRun.results();
    String svg = ParetoFigure.of(results, latencies(results)).toSvg();
    for (String text : List.of("baseline", "0-0", "0-1", "0-2", "1-1", "1-2", "2-2", "overall accuracy", "worst label", "Pareto front",
        "speed-up against the baseline", "accuracy (share of examples right)", "2 threads")) {
      assertTrue(svg.contains(text), text);
    }
    assertTrue(!svg.contains("change significant"), "a run without statistics has no significance to mark");
  }
}
