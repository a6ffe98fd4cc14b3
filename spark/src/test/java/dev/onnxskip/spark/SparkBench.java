package dev.onnxskip.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code make bench-spark} (part of {@code make bench}): SparkEval on a local Spark against eval on
 * one machine, on the demo's data (the first {@code bench.examples} IMDb dev reviews, 256 by
 * default) and the demo's classifier where {@code make demo} has made one (else MiniLM with a fixed
 * random head, which costs the same). Single-machine eval runs with 2 intra-op threads; local[2]
 * runs two tasks at a time with one thread each, and local[1] one task, for the scaling from one
 * core to two. Each figure is the wall time of the whole command, Spark's start included, and the
 * engine's own time from timing.json; every run evaluates the baseline and all 21 spans.
 */
public final class SparkBench {

  private static final double BOUND = 1.25;

  private SparkBench() {}

  /** One timed run: the command's wall time, and the seconds timing.json gives the engine. */
  private record Timed(String name, double wall, double engine) {}

  public static void main(String[] args) {
    // Maven's test classpath is long: the same stack as SparkEval's main gives its run.
    BigStack.call("onnx-skip bench", () -> {
      measure();
      return null;
    });
  }

  private static void measure() throws IOException {
    int examples = Integer.getInteger("bench.examples", 256);
    Path dir = Files.createTempDirectory("onnx-skip-spark-bench");
    Path demo = Path.of("out/demo/classifier.onnx");
    Path classifier = Files.exists(demo) ? demo : SparkRuns.classifier(dir);
    Path data = dir.resolve("dev.jsonl");
    Files.write(data, Files.readAllLines(Path.of("data/imdb/dev.jsonl")).subList(0, examples));
    System.out.printf(Locale.ROOT, "SparkEval against eval: %s, %d IMDb dev reviews, baseline and all spans, %d cores%n",
        classifier, examples, Runtime.getRuntime().availableProcessors());
    // Warm-up: ONNX Runtime's library, the JIT and the tokenizer, for all runs alike.
    Path small = dir.resolve("warm.jsonl");
    Files.write(small, Files.readAllLines(data).subList(0, 8));
    run("warm-up", dir, classifier, small, "eval", List.of("--threads", "2"));
    run("warm-up", dir, classifier, small, "spark", List.of("--master", "local[2]", "--threads", "1"));
    List<Timed> runs = new ArrayList<>();
    runs.add(run("eval, 2 threads", dir, classifier, data, "eval", List.of("--threads", "2")));
    runs.add(run("spark local[2], 1 thread per task", dir, classifier, data, "spark", List.of("--master", "local[2]", "--threads", "1")));
    runs.add(run("spark local[1], 1 thread per task", dir, classifier, data, "spark", List.of("--master", "local[1]", "--threads", "1")));
    System.out.printf(Locale.ROOT, "%-36s %10s %10s%n", "run", "wall s", "engine s");
    for (Timed t : runs) {
      System.out.printf(Locale.ROOT, "%-36s %10.1f %10.1f%n", t.name(), t.wall(), t.engine());
    }
    double ratio = runs.get(1).wall() / runs.get(0).wall();
    System.out.printf(Locale.ROOT, "wall time, spark local[2] / eval: %.2f (bound %.2f: %s)%n", ratio, BOUND,
        ratio <= BOUND ? "met" : "NOT met");
    double efficiency = runs.get(2).wall() / (2 * runs.get(1).wall());
    System.out.printf(Locale.ROOT, "scaling local[1] -> local[2]: speed-up %.2f, efficiency %.0f%% (engine time: %.0f%%)%n",
        runs.get(2).wall() / runs.get(1).wall(), 100 * efficiency, 100 * runs.get(2).engine() / (2 * runs.get(1).engine()));
  }

  private static Timed run(String name, Path dir, Path classifier, Path data, String how, List<String> more) throws IOException {
    Path out = Files.createTempDirectory(dir, "run");
    List<String> args = new ArrayList<>(List.of("--model", classifier.toString(), "--tokenizer", SparkRuns.TOKENIZER.toString(), "--data",
        data.toString(), "--spans", "all", "--quiet", "--force", "--out", out.toString()));
    args.addAll(more);
    long started = System.nanoTime();
    SparkRuns.Run run = how.equals("eval") ? SparkRuns.eval(args.toArray(String[]::new)) : SparkRuns.spark(args.toArray(String[]::new));
    double wall = (System.nanoTime() - started) / 1e9;
    if (run.exitCode() != 0) {
      throw new IllegalStateException(name + " failed: " + run.err());
    }
    double engine = new ObjectMapper().readTree(out.resolve("timing.json").toFile()).path("seconds").asDouble(Double.NaN);
    return new Timed(name, wall, engine);
  }
}
