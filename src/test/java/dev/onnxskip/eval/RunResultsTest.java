package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.report.HandRun;
import dev.onnxskip.rewrite.SkipSpan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunResultsTest {
  private static final List<String> XY = List.of("x", "y");
  private static final Metrics SOME = new Metrics(XY, new long[][] {{1, 0}, {0, 1}});

  private static RunResults run(Map<String, Object> config, int layers, VariantResult... variants) {
    return new RunResults(config, Map.of(), XY, layers, List.of(variants), "t");
  }

  @Test
  void mapsWithoutDefinedOrderAreSortedAndOrderedOnesKept() {
    Map<String, Object> unordered = new HashMap<>();
    for (String key : List.of("zeta", "alpha", "mid", "beta")) {
      unordered.put(key, Map.of("y", 1, "b", 2, "m", 3));
    }
    RunResults r = run(unordered, 1, VariantResult.baseline(SOME));
    assertEquals(List.of("alpha", "beta", "mid", "zeta"), new ArrayList<>(r.config().keySet()));
    assertEquals(List.of("b", "m", "y"), new ArrayList<>(((Map<?, ?>) r.config().get("zeta")).keySet()));

    Map<String, Object> ordered = new java.util.LinkedHashMap<>();
    ordered.put("zeta", 1);
    ordered.put("alpha", 2);
    RunResults kept = run(ordered, 1, VariantResult.baseline(SOME));
    assertEquals(List.of("zeta", "alpha"), new ArrayList<>(kept.config().keySet()));
  }

  @Test
  void otherValuesAreKeptAsText() {
    Map<String, Object> config = new java.util.LinkedHashMap<>();
    config.put("model", java.nio.file.Path.of("models", "m.onnx"));
    config.put("sizes", List.of(1, java.time.DayOfWeek.MONDAY));
    RunResults r = run(config, 1, VariantResult.baseline(SOME));
    assertEquals("models/m.onnx".replace('/', java.io.File.separatorChar), r.config().get("model"));
    assertEquals(List.of(1, "MONDAY"), r.config().get("sizes"));
  }

  @Test
  void findsVariantsBySpan() {
    RunResults r = HandRun.results();
    assertTrue(r.baseline().isBaseline());
    assertEquals(6, r.spans().size());
    assertEquals(1.0, r.variant(new SkipSpan(0, 1)).orElseThrow().metrics().perLabel().get(0).accuracy());
    assertTrue(r.variant(new SkipSpan(0, 2)).isPresent());
    assertTrue(run(Map.of(), 3, VariantResult.baseline(SOME)).variant(new SkipSpan(0, 2)).isEmpty());
  }

  @Test
  void rejectsInconsistentRuns() {
    VariantResult base = VariantResult.baseline(SOME);
    var e = assertThrows(IllegalArgumentException.class,
        () -> run(Map.of(), 2, new VariantResult(new SkipSpan(0, 0), SOME), base));
    assertEquals("the first variant must be the baseline (span null)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> run(Map.of(), 2, base, new VariantResult(new SkipSpan(1, 1), SOME),
            new VariantResult(new SkipSpan(0, 1), SOME)));
    assertEquals("spans must be in order without repeats, but 0-1 follows 1-1", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> run(Map.of(), 2, base, new VariantResult(new SkipSpan(1, 2), SOME)));
    assertEquals("span 1-2 lies outside the 2 layers (0-1)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> run(Map.of(), 2, base, base));
    assertEquals("more than one baseline among the variants", e.getMessage());
    Metrics other = new Metrics(List.of("y", "x"), new long[][] {{1, 0}, {0, 1}});
    e = assertThrows(IllegalArgumentException.class,
        () -> run(Map.of(), 2, base, new VariantResult(new SkipSpan(0, 0), other)));
    assertEquals("variant 0-0 is scored on labels [y, x], not [x, y]", e.getMessage());
  }
}
