package dev.onnxskip.bench;

import dev.onnxskip.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * {@code make bench}: wall time and peak heap of {@code rewrite --all-spans} on the real MiniLM,
 * with inline weights and with one shared external-data file, measured side by side.
 */
public final class RewriteBench {
  private RewriteBench() {}

  public static void main(String[] args) throws Exception {
    String model = args.length > 0 ? args[0] : "models/minilm-l6/model.onnx";
    Path tmp = Files.createTempDirectory("onnx-skip-bench");
    try {
      // A warm-up run pays for class loading and JIT once, outside the measurements.
      measure(model, tmp.resolve("warmup"), false);
      Row inline = measure(model, tmp.resolve("inline"), false);
      Row external = measure(model, tmp.resolve("external"), true);
      System.out.printf("%nrewrite --all-spans on %s (%d cores, max heap %d MiB)%n", model,
          Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
      System.out.printf("%-22s %10s %14s %14s%n", "mode", "wall s", "peak heap MiB", "disk MiB");
      for (Row r : new Row[] {inline, external}) {
        System.out.printf("%-22s %10.2f %14d %14d%n", r.mode, r.seconds, r.peakHeapBytes >> 20, r.diskBytes >> 20);
      }
      System.out.printf("external / inline: time %.2fx, disk %.3fx%n",
          external.seconds / inline.seconds, (double) external.diskBytes / inline.diskBytes);
    } finally {
      deleteTree(tmp);
    }
  }

  record Row(String mode, double seconds, long peakHeapBytes, long diskBytes) {}

  static Row measure(String model, Path out, boolean external) throws IOException {
    System.gc();
    ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);
    long start = System.nanoTime();
    String[] args = external
        ? new String[] {"rewrite", model, "--all-spans", "--external-data", "-o", out.toString()}
        : new String[] {"rewrite", model, "--all-spans", "-o", out.toString()};
    int code = Main.run(args, new PrintWriter(new StringWriter()), new PrintWriter(System.err, true));
    double seconds = (System.nanoTime() - start) / 1e9;
    if (code != 0) {
      throw new IllegalStateException("rewrite failed with exit code " + code);
    }
    long peak = ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(p -> p.getType() == MemoryType.HEAP)
        .mapToLong(p -> p.getPeakUsage().getUsed())
        .sum();
    long disk;
    try (Stream<Path> files = Files.walk(out)) {
      disk = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
    return new Row(external ? "shared external data" : "inline weights", seconds, peak, disk);
  }

  static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
