package dev.onnxskip.bench;

import dev.onnxskip.cli.Main;
import dev.onnxskip.data.SyntheticData;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.testing.StreamedBert;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * make bench-large: eval of a 20-layer classifier at hidden size 1536 (2.3 GB of float weights in
 * an external-data file, the size of the model in the feature request) with each engine, each in a
 * JVM of its own, printing the wall time and the peak RSS against the weights' size (target: under
 * 1.3 times). The model is written to a temporary folder and removed afterwards.
 */
public final class LargeModelBench {
  private LargeModelBench() {}

  private static final String RESULT = "LARGE-BENCH ";
  static final StreamedBert.Spec SPEC = new StreamedBert.Spec(20, 1536, 12, 6144, 512, 128, 2, 11);

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--child")) {
      child(List.of(args).subList(1, args.length));
      return;
    }
    int examples = Integer.getInteger("bench.largeExamples", 16);
    Path tmp = Files.createTempDirectory("onnx-skip-largebench");
    try {
      long t0 = System.nanoTime();
      Path model = StreamedBert.write(SPEC, tmp.resolve("bigcls.onnx"), "bigcls.onnx.data");
      double writeSeconds = (System.nanoTime() - t0) / 1e9;
      Path tokenizer = WordTokenizer.numbered(SPEC.vocab(), true).write(tmp.resolve("tokenizer.json"));
      Path data = Files.writeString(tmp.resolve("data.jsonl"), SyntheticData.jsonLines(SyntheticData.texts(examples, SPEC.vocab(), 5), "0", "1"));
      double weightsMiB = SPEC.weightBytes() / (double) (1 << 20);
      System.out.printf("%neval of a %d-layer classifier, hidden %d, %.0f MiB of float weights in external data (written in %.1f s); %d examples, spans 0-0,5-9,19-19%n",
          SPEC.layers(), SPEC.hidden(), weightsMiB, writeSeconds, examples);
      System.out.printf("%-8s %10s %14s %16s%n", "engine", "wall s", "peak RSS MiB", "RSS / weights");
      for (String engine : List.of("naive", "shared")) {
        Path out = tmp.resolve("out-" + engine);
        List<String> eval = List.of("eval", "--model", model.toString(), "--tokenizer", tokenizer.toString(), "--data", data.toString(),
            "--spans", "0-0,5-9,19-19", "--engine", engine, "--batch-size", "8", "--max-length", "32", "--threads", "2", "--quiet",
            "--out", out.toString());
        String[] result = spawn(eval);
        double seconds = Double.parseDouble(result[0]);
        double peakMiB = Long.parseLong(result[1]) / 1024.0;
        System.out.printf(Locale.ROOT, "%-8s %10.1f %14.0f %15.2fx  (target < 1.30: %s)%n", engine, seconds, peakMiB, peakMiB / weightsMiB,
            peakMiB / weightsMiB < 1.3 ? "met" : "NOT met");
      }
    } finally {
      RewriteBench.deleteTree(tmp);
    }
  }

  /** Runs eval in this JVM and prints its wall time and the process's peak RSS. */
  private static void child(List<String> eval) throws IOException {
    long t0 = System.nanoTime();
    PrintWriter out = new PrintWriter(System.out, true);
    int exit = Main.run(eval.toArray(String[]::new), out, new PrintWriter(System.err, true));
    if (exit != 0) {
      System.exit(exit);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    long peakKiB = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmHWM:"))
        .map(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(-1L);
    System.out.println(RESULT + seconds + " " + peakKiB);
  }

  private static String[] spawn(List<String> eval) throws IOException, InterruptedException, URISyntaxException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
        "-Dai.djl.offline=true", "-cp", classpath(), LargeModelBench.class.getName(), "--child"));
    cmd.addAll(eval);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("OPT_OUT_TRACKING", "true");
    Process p = pb.start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("eval failed:\n" + text);
    }
    return text.lines().filter(l -> l.startsWith(RESULT)).findFirst().orElseThrow(() -> new IllegalStateException("no result:\n" + text))
        .substring(RESULT.length()).split(" ");
  }

  /** The classpath this JVM runs on, also when Maven's exec:java loads it through its own class loader. */
  private static String classpath() throws URISyntaxException {
    if (LargeModelBench.class.getClassLoader() instanceof URLClassLoader loader && loader.getURLs().length > 1) {
      List<String> parts = new ArrayList<>();
      for (URL u : loader.getURLs()) {
        parts.add(Path.of(u.toURI()).toString());
      }
      return String.join(File.pathSeparator, parts);
    }
    return System.getProperty("java.class.path");
  }
}
