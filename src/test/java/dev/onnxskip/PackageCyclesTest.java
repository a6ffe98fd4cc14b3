package dev.onnxskip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The packages of the main code depend on each other one way: cli on everything, eval on data and
 * runtime, report on eval, and so on down to graph; stats on none of them. Read from the sources'
 * imports (and fully qualified names), so a new cycle fails here with the packages that form it.
 */
class PackageCyclesTest {
  private static final Path MAIN = Path.of("src/main/java/dev/onnxskip");
  private static final Pattern REFERENCE = Pattern.compile("\\bdev\\.onnxskip\\.([a-z]+)\\.[A-Z]");

  static Map<String, Set<String>> dependencies() throws IOException {
    Map<String, Set<String>> deps = new TreeMap<>();
    try (Stream<Path> files = Files.walk(MAIN)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        Path rel = MAIN.relativize(f);
        String from = rel.getNameCount() == 1 ? "" : rel.getName(0).toString();
        Set<String> to = deps.computeIfAbsent(from, k -> new TreeSet<>());
        Matcher m = REFERENCE.matcher(Files.readString(f));
        while (m.find()) {
          if (!m.group(1).equals(from)) {
            to.add(m.group(1));
          }
        }
      }
    }
    return deps;
  }

  @Test
  void thePackageGraphHasNoCycle() throws IOException {
    Map<String, Set<String>> deps = dependencies();
    assertTrue(deps.keySet().containsAll(List.of("cli", "data", "eval", "graph", "layout", "report", "rewrite", "runtime", "stats")), deps.toString());
    List<String> cycle = findCycle(deps);
    assertEquals(List.of(), cycle, "package cycle " + String.join(" -> ", cycle));
  }

  @Test
  void evalWritesNoReportAndTheLowerLayersKnowNothingAbove() throws IOException {
    Map<String, Set<String>> deps = dependencies();
    assertTrue(!deps.get("eval").contains("report"), "eval must return results, not write them: " + deps.get("eval"));
    for (String low : List.of("graph", "layout", "rewrite")) {
      for (String high : List.of("cli", "eval", "report", "data", "runtime", "probe")) {
        assertTrue(!deps.get(low).contains(high), low + " depends on " + high);
      }
    }
    assertEquals(Set.of(), deps.get("stats"), "stats is pure arithmetic and depends on no other package");
  }

  @Test
  void aCycleIsFoundAndNamed() {
    Map<String, Set<String>> deps = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a"));
    List<String> cycle = findCycle(deps);
    assertEquals(4, cycle.size(), cycle.toString());
    assertEquals(cycle.get(0), cycle.get(3));
    assertEquals(Set.of("a", "b", "c"), new TreeSet<>(cycle));
  }

  /** A cycle as its packages, the first repeated at the end, or an empty list. Depth-first search. */
  static List<String> findCycle(Map<String, Set<String>> deps) {
    Map<String, Integer> state = new TreeMap<>();
    for (String start : new TreeSet<>(deps.keySet())) {
      List<String> path = new ArrayList<>();
      List<String> found = visit(start, deps, state, path);
      if (!found.isEmpty()) {
        return found;
      }
    }
    return List.of();
  }

  private static List<String> visit(String p, Map<String, Set<String>> deps, Map<String, Integer> state, List<String> path) {
    Integer s = state.get(p);
    if (s != null && s == 2) {
      return List.of();
    }
    if (s != null && s == 1) {
      List<String> cycle = new ArrayList<>(path.subList(path.indexOf(p), path.size()));
      cycle.add(p);
      return cycle;
    }
    state.put(p, 1);
    path.add(p);
    for (String q : new TreeSet<>(deps.getOrDefault(p, Set.of()))) {
      List<String> found = visit(q, deps, state, path);
      if (!found.isEmpty()) {
        return found;
      }
    }
    path.remove(path.size() - 1);
    state.put(p, 2);
    return List.of();
  }
}
