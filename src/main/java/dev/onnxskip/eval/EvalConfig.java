package dev.onnxskip.eval;

import dev.onnxskip.data.DataColumns;
import dev.onnxskip.data.LabelSet;
import dev.onnxskip.runtime.Device;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything that decides the numbers of an evaluation run, in groups that each say one thing.
 * Its canonical form goes into {@code results.json} and, with the input checksums, into the run
 * key that guards resuming.
 *
 * @param spans "all" or a list such as "0-0,2-4"
 */
public record EvalConfig(Inputs inputs, ModelReading reading, String spans, Batching batching, Execution execution,
    Findings.Settings statistics) {

  /** With the default statistics. */
  public EvalConfig(Inputs inputs, ModelReading reading, String spans, Batching batching, Execution execution) {
    this(inputs, reading, spans, batching, execution, Findings.Settings.DEFAULT);
  }

  /**
   * The files a run reads, and which data columns hold what.
   *
   * @param shownAs where the files were fetched from, for reports: local folder prefixes (ending in
   *     the separator) and the prefixes to show instead, such as the folder of a URI a copy was made
   *     from. Empty where the files are read where they were given.
   */
  public record Inputs(Path model, Path tokenizer, Path data, DataColumns columns, Map<String, String> shownAs) {

    public Inputs {
      shownAs = Map.copyOf(shownAs);
    }

    /** Files read where they were given. */
    public Inputs(Path model, Path tokenizer, Path data, DataColumns columns) {
      this(model, tokenizer, data, columns, Map.of());
    }

    /** {@code text} (a path, or a message naming paths) with every fetched file named as it was given. */
    public String shown(String text) {
      String out = text;
      for (Map.Entry<String, String> e : shownAs.entrySet()) {
        out = out.replace(e.getKey(), e.getValue());
      }
      return out;
    }
  }

  /**
   * How to read the model where it cannot say for itself.
   *
   * @param labels label names in logit order; empty to take the model's own
   * @param onLabelDifference whether {@code labels} may replace the model's own names where they differ
   * @param logitsOutput the output holding logits; empty to find it
   * @param boundaries the residual-stream tensors named by hand; empty to detect them
   */
  public record ModelReading(List<String> labels, LabelSet.ModelLabels onLabelDifference, Optional<String> logitsOutput,
      List<String> boundaries) {

    /** Names that must agree with the model's own, where it has any. */
    public ModelReading(List<String> labels, Optional<String> logitsOutput, List<String> boundaries) {
      this(labels, LabelSet.ModelLabels.KEEP, logitsOutput, boundaries);
    }

    /** Everything read from the model itself. */
    public static final ModelReading FROM_MODEL = new ModelReading(List.of(), Optional.empty(), List.of());

    /** The model's own outputs and layout, with these label names. */
    public static ModelReading labelled(List<String> labels) {
      return new ModelReading(labels, Optional.empty(), List.of());
    }
  }

  /**
   * How examples become batches.
   *
   * @param sortByLength sort examples by token length before batching (dynamic padding works best)
   */
  public record Batching(int batchSize, int maxLength, boolean sortByLength) {}

  /**
   * Where and how the models run; none of it changes the numbers beyond float rounding.
   *
   * @param threads intra-op threads, 0 for the runtime's choice
   */
  public record Execution(Device device, int threads, EngineKind engine) {}

  /** The settings that shape results, as written in results.json; timing and engine stay out. */
  public Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", inputs.shown(inputs.model().toString()));
    m.put("tokenizer", inputs.shown(inputs.tokenizer().toString()));
    m.put("dataset", inputs.shown(inputs.data().toString()));
    DataColumns columns = inputs.columns();
    m.put("text_column", columns.text());
    if (columns.hasPair()) {
      m.put("text_pair_column", columns.textPair());
    }
    m.put("label_column", columns.label());
    m.put("spans", spans);
    m.put("batch_size", batching.batchSize());
    m.put("max_length", batching.maxLength());
    m.put("sort_by_length", batching.sortByLength());
    reading.logitsOutput().ifPresent(o -> m.put("logits_output", o));
    if (!reading.labels().isEmpty()) {
      m.put("labels", reading.labels());
    }
    if (!reading.boundaries().isEmpty()) {
      m.put("boundaries", reading.boundaries());
    }
    m.put("alpha", statistics.alpha());
    m.put("bootstrap", statistics.bootstrap());
    m.put("folds", statistics.folds() == 0 ? "default" : statistics.folds());
    m.put("head_refit", statistics.headRefit());
    m.put("layer_metrics", statistics.layerMetrics());
    return m;
  }
}
