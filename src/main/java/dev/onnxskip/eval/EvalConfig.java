package dev.onnxskip.eval;

import dev.onnxskip.data.DataColumns;
import dev.onnxskip.runtime.Device;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything that decides the numbers of an evaluation run. Its canonical form goes into
 * {@code results.json} and, with the input checksums, into the run key that guards resuming.
 *
 * @param spans "all" or a list such as "0-0,2-4"
 * @param sortByLength sort examples by token length before batching (dynamic padding works best)
 */
public record EvalConfig(
    Path model,
    Path tokenizer,
    Path data,
    DataColumns columns,
    List<String> labels,
    Optional<String> logitsOutput,
    List<String> boundaries,
    String spans,
    Device device,
    int batchSize,
    int maxLength,
    int threads,
    EngineKind engine,
    boolean sortByLength) {

  /** The settings that shape results, as written in results.json; timing and engine stay out. */
  public Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", model.toString());
    m.put("tokenizer", tokenizer.toString());
    m.put("dataset", data.toString());
    m.put("text_column", columns.text());
    if (columns.hasPair()) {
      m.put("text_pair_column", columns.textPair());
    }
    m.put("label_column", columns.label());
    m.put("spans", spans);
    m.put("batch_size", batchSize);
    m.put("max_length", maxLength);
    m.put("sort_by_length", sortByLength);
    logitsOutput.ifPresent(o -> m.put("logits_output", o));
    if (!labels.isEmpty()) {
      m.put("labels", labels);
    }
    if (!boundaries.isEmpty()) {
      m.put("boundaries", boundaries);
    }
    return m;
  }
}
