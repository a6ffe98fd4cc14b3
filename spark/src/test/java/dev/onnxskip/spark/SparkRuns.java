package dev.onnxskip.spark;

import dev.onnxskip.cli.Main;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.rewrite.HeadWriter;
import dev.onnxskip.rewrite.Pooling;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** A MiniLM classifier and data made here, and runs of eval and SparkEval on them with their output captured. */
final class SparkRuns {

  static final Path ENCODER = Path.of("models/minilm-l6/model.onnx");
  static final Path TOKENIZER = Path.of("models/minilm-l6/tokenizer.json");

  private SparkRuns() {}

  /** What a run printed and returned. */
  record Run(int exitCode, String out, String err) {}

  static Run eval(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "eval";
    System.arraycopy(args, 0, all, 1, args.length);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(all, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  static Run spark(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = SparkEval.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  /** The real MiniLM encoder with a fixed random mean-pooling linear head, as a trained probe's scale gives. */
  static Path classifier(Path dir) throws IOException {
    OnnxModel encoder = ModelIO.load(ENCODER);
    Random random = new Random(2022);
    float[] weights = new float[384 * 2];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = (float) (0.05 * random.nextGaussian());
    }
    Path classifier = dir.resolve("classifier.onnx");
    ModelIO.save(HeadWriter.append(encoder, "last_hidden_state", "attention_mask", Pooling.MEAN, weights,
        new float[] {0.25f, -0.25f}, List.of("neg", "pos")).proto(), classifier);
    return classifier;
  }

  /** Review-like labelled texts, a few words to past 128 tokens, so truncation and per-batch padding take part. */
  static Path reviews(Path dir, int count) throws IOException {
    String[] words = {"the", "film", "was", "a", "truly", "wonderful", "boring", "plot", "and", "acting", "felt", "dull",
        "brilliant", "ending", "music", "terrible", "I", "loved", "hated", "every", "minute", "of", "it", "story"};
    Random random = new Random(7);
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      StringBuilder text = new StringBuilder();
      int length = 3 + random.nextInt(i % 4 == 0 ? 200 : 40);
      for (int w = 0; w < length; w++) {
        text.append(w == 0 ? "" : " ").append(words[random.nextInt(words.length)]);
      }
      lines.add("{\"text\": \"" + text + ".\", \"label\": \"" + (i % 2 == 0 ? "neg" : "pos") + "\"}");
    }
    Path data = dir.resolve("dev" + count + ".jsonl");
    Files.write(data, lines);
    return data;
  }

  /** results.json with its one run-dependent line, the timestamp, blanked: equal text means equal results. */
  static String resultsWithoutTimestamp(Path outDir) throws IOException {
    String text = Files.readString(outDir.resolve("results.json"));
    String blanked = text.replaceFirst("\n  \"timestamp\": \"[^\"]+\",\n", "\n  \"timestamp\": \"-\",\n");
    if (blanked.equals(text)) {
      throw new AssertionError("results.json of " + outDir + " has no timestamp line");
    }
    return blanked;
  }

  /** Runs {@code body} with Spark configuration {@code key} set, as {@code --conf key=value} would. */
  static <T> T withSparkConf(String key, String value, java.util.function.Supplier<T> body) {
    System.setProperty(key, value);
    try {
      return body.get();
    } finally {
      System.clearProperty(key);
    }
  }
}
