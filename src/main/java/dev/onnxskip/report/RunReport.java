package dev.onnxskip.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.onnxskip.AtomicFiles;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.data.Example;
import dev.onnxskip.eval.EvalRun;
import dev.onnxskip.eval.Phase;
import dev.onnxskip.eval.Latencies;
import dev.onnxskip.rewrite.Variant;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Writes every file of an evaluation run: results.json, results.csv, summary.md, heatmaps, timing and
 * predictions.
 */
public final class RunReport {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Every file name this class may write, as a glob. */
  private static final String OUTPUTS =
      "{results.json,results.csv,summary.md,timing.json,predictions.jsonl,heatmaps.png,heatmaps.svg,heatmap-*.png,heatmap-*.svg,"
      + "layer-metrics.png,layer-metrics.svg,block-influence.png,block-influence.svg,shift-vs-loss.png,shift-vs-loss.svg,pareto.png,pareto.svg}";

  /** What predictions.jsonl holds per example besides its index, line and id. */
  public enum PredictionDetail {
    /** The gold label, and every variant's prediction and logits. */
    LOGITS,
    /** The same, and the example's text (and text pair). */
    TEXT
  }

  private RunReport() {}

  /**
   * Writes the run's files into {@code dir}, each atomically, and returns them in the order written;
   * predictions.jsonl only where {@code predictions} says what it holds.
   */
  public static List<Path> write(EvalRun.Outcome outcome, Path dir, Optional<PredictionDetail> predictions) {
    return write(outcome, Optional.empty(), dir, predictions);
  }

  /**
   * The same, with the measured speed where there is one: in results.json and results.csv, as a
   * section of summary.md, and as the speed-accuracy figure {@code pareto.png} and {@code .svg}.
   */
  public static List<Path> write(EvalRun.Outcome outcome, Optional<Latencies> latencies, Path dir,
      Optional<PredictionDetail> predictions) {
    long started = System.nanoTime();
    List<Path> files = new ArrayList<>();
    Path json = dir.resolve("results.json");
    ResultsJson.write(outcome.results(), latencies, json);
    files.add(json);
    Path csv = dir.resolve("results.csv");
    ResultsCsv.write(outcome.results(), latencies, csv);
    files.add(csv);
    Path summary = dir.resolve("summary.md");
    AtomicFiles.writeString(summary, Summary.file(outcome.results())
        + latencies.map(l -> "\n" + LatencySummary.markdown(outcome.results(), l)).orElse(""));
    files.add(summary);
    files.addAll(Heatmaps.write(outcome.results(), dir));
    if (latencies.isPresent()) {
      files.addAll(Figure.write(ParetoFigure.of(outcome.results(), latencies.get()), dir, "pareto"));
    }
    if (predictions.isPresent()) {
      Path preds = dir.resolve("predictions.jsonl");
      writePredictions(preds, outcome.predictions(), predictions.get());
      files.add(preds);
    }
    Path timing = dir.resolve("timing.json");
    // The reports' own time is told in the one file written after it is known.
    outcome.timing().phases().since(Phase.REPORTS, started);
    writeTiming(timing, outcome.timing());
    files.add(timing);
    return files;
  }

  /**
   * Deletes what an earlier run in the folder wrote, which --force makes stale: it would sit beside
   * the new run's journal until that run ends, and outlive it where the new run writes no such file
   * (a label the new model lacks, predictions not asked for again).
   */
  public static void removeEarlier(Path dir) {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, OUTPUTS)) {
      for (Path file : files) {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      throw new OnnxSkipException("cannot remove the earlier run's outputs in " + dir + ": " + AtomicFiles.describe(e), e);
    }
  }

  private static void writePredictions(Path file, EvalRun.Predictions p, PredictionDetail detail) {
    ObjectMapper compact = new ObjectMapper();
    Map<Variant, int[]> predicted = new LinkedHashMap<>();
    p.logits().keySet().forEach(v -> predicted.put(v, p.predicted(v)));
    AtomicFiles.write(file, out -> {
      for (int i = 0; i < p.gold().length; i++) {
        ObjectNode line = compact.createObjectNode();
        Example example = p.examples().get(i);
        line.put("index", i);
        line.put("line", example.line());
        if (example.id().number()) {
          line.put("id", Long.parseLong(example.id().value()));
        } else {
          line.put("id", example.id().value());
        }
        if (detail == PredictionDetail.TEXT) {
          line.put("text", example.text());
          if (example.isPair()) {
            line.put("text_pair", example.textPair());
          }
        }
        line.put("gold", p.labels().get(p.gold()[i]));
        ObjectNode preds = line.putObject("predicted");
        ObjectNode raw = line.putObject("logits");
        for (Map.Entry<Variant, float[][]> v : p.logits().entrySet()) {
          String key = v.getKey().name();
          preds.put(key, p.labels().get(predicted.get(v.getKey())[i]));
          var arr = raw.putArray(key);
          for (float f : v.getValue()[i]) {
            arr.add(f);
          }
        }
        out.write(compact.writeValueAsBytes(line));
        out.write('\n');
      }
    });
  }

  private static void writeTiming(Path file, EvalRun.Timing timing) {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("engine", timing.engine());
    t.put("device", timing.device());
    t.put("threads", timing.threads());
    t.put("seconds", timing.seconds());
    t.put("variants_run", timing.variantsRun());
    t.put("examples_per_second", timing.seconds() > 0 ? timing.examples() * (double) timing.variantsRun() / timing.seconds() : 0);
    Map<String, Double> phases = new LinkedHashMap<>();
    timing.phases().seconds().forEach((phase, seconds) -> phases.put(phase.name().toLowerCase(Locale.ROOT), seconds));
    t.put("phases_seconds", phases);
    try {
      AtomicFiles.writeString(file, JSON.writeValueAsString(t) + "\n");
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("timing is plain values", e);
    }
  }
}
