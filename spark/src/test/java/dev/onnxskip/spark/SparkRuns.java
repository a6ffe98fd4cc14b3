package dev.onnxskip.spark;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.onnxskip.cli.Main;
import dev.onnxskip.data.BatchSource;
import dev.onnxskip.eval.EvalConfig;
import dev.onnxskip.eval.EvalEngine;
import dev.onnxskip.eval.EvalRun;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.rewrite.HeadWriter;
import dev.onnxskip.rewrite.Pooling;
import dev.onnxskip.runtime.OrtRuntime;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
    return spark(UnaryOperator.identity(), args);
  }

  /** SparkEval with its engines made by what {@code engines} makes of Spark's. */
  static Run spark(UnaryOperator<EvalRun.EngineFactory> engines, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = SparkEval.run(args, new PrintWriter(out, true), new PrintWriter(err, true), engines);
    return new Run(code, out.toString(), err.toString());
  }

  /**
   * Spark's engines, with {@code step} taken on the driver before they open: after the driver has
   * read the inputs, before the executors load the model.
   */
  static EvalRun.EngineFactory beforeOpening(EvalRun.EngineFactory spark, IoStep step) {
    return new EvalRun.EngineFactory() {
      @Override
      public String name(EvalConfig cfg) {
        return spark.name(cfg);
      }

      @Override
      public EvalEngine open(EvalConfig cfg, EvalRun.EngineInputs inputs, OrtRuntime runtime, BatchSource batches) {
        try {
          step.take(cfg);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        return spark.open(cfg, inputs, runtime, batches);
      }
    };
  }

  @FunctionalInterface
  interface IoStep {
    void take(EvalConfig cfg) throws IOException;
  }

  /** A file's {@code file://} URI. */
  static String fileUri(Path file) {
    return file.toAbsolutePath().toUri().toString();
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

  /**
   * {@code model} saved as {@code target} with every initializer of 1 KiB or more in the file
   * {@code location} names, relative to {@code target}, as exporters write large models.
   */
  static Path withExternalData(Path model, Path target, String location) throws IOException {
    OnnxModel loaded = ModelIO.load(model);
    ModelProto.Builder proto = loaded.proto().toBuilder();
    GraphProto.Builder graph = proto.getGraphBuilder();
    Path data = target.resolveSibling(location);
    Files.createDirectories(data.getParent());
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(data))) {
      long offset = 0;
      for (int i = 0; i < graph.getInitializerCount(); i++) {
        TensorProto t = graph.getInitializer(i);
        byte[] bytes = ExternalData.rawBytes(t, loaded);
        if (bytes.length >= 1024) {
          out.write(bytes);
          graph.setInitializer(i, ExternalData.pointingTo(t, new ExternalData.Ref(location, offset, bytes.length)));
          offset += bytes.length;
        }
      }
    }
    ModelIO.save(proto.build(), target);
    return target;
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

  /**
   * results.json without its timestamp and with what names the input files blanked (the config's
   * model, tokenizer and dataset, and where the labels came from): equal text means equal results
   * of the same inputs, wherever they were read from.
   */
  static String resultsWithoutTimestampOrPaths(Path outDir) throws IOException {
    String text = resultsWithoutTimestamp(outDir);
    String blanked = text
        .replaceFirst("\n    \"model\": \"[^\"]+\",\n    \"tokenizer\": \"[^\"]+\",\n    \"dataset\": \"[^\"]+\",\n",
            "\n    \"model\": \"-\",\n    \"tokenizer\": \"-\",\n    \"dataset\": \"-\",\n")
        .replaceFirst("\n    \"labels_from\": \"the id2label metadata of [^\"]+\",\n", "\n    \"labels_from\": \"-\",\n");
    if (blanked.split("\"-\"", -1).length != 6) {
      throw new AssertionError("results.json of " + outDir + " names its inputs otherwise than expected:\n" + text);
    }
    return blanked;
  }

  /** From the driver's last progress line: the examples done ({@code group} 1) or in the job (2); -1 where there is none. */
  static int examplesDone(String err, int group) {
    Matcher line = Pattern.compile("partitions, (\\d+) of (\\d+) examples").matcher(err);
    int value = -1;
    while (line.find()) {
      value = Integer.parseInt(line.group(group));
    }
    return value;
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
