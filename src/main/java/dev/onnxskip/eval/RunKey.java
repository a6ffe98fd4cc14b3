package dev.onnxskip.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.onnxskip.graph.Digests;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a journal must match to be resumed: every input's digest and every setting that shapes the
 * logits. The spans are not part of it: a resumed run may ask for more spans, or others, and takes
 * from the journal whatever it already holds of them.
 *
 * @param entries the digests and settings by name, as the journal's header records them
 */
public record RunKey(ObjectNode entries) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What each digest is of, for saying which input changed. */
  private static final Map<String, String> INPUTS = Map.of(
      "model_sha256", "the model",
      "model_external_data_sha256", "the model's external data",
      "dataset_sha256", "the data set",
      "tokenizer_sha256", "the tokenizer");

  public static RunKey of(Map<String, Object> entries) {
    return new RunKey(JSON.valueToTree(entries));
  }

  /** The key as one short value, for the journal's header. */
  public String digest() {
    try {
      return Digests.sha256(JSON.writeValueAsBytes(entries));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the run key is plain values", e);
    }
  }

  /**
   * What differs between an earlier run's key and this one, for a person: the inputs whose digest
   * changed, then the settings with their old and new values.
   */
  public List<String> differencesFrom(JsonNode earlier) {
    Set<String> names = new LinkedHashSet<>();
    earlier.fieldNames().forEachRemaining(names::add);
    entries.fieldNames().forEachRemaining(names::add);
    List<String> inputs = new ArrayList<>();
    List<String> settings = new ArrayList<>();
    for (String name : names) {
      JsonNode before = earlier.path(name);
      JsonNode now = entries.path(name);
      if (before.equals(now)) {
        continue;
      }
      if (INPUTS.containsKey(name)) {
        inputs.add(INPUTS.get(name) + " (sha256 " + shortValue(before) + " before, " + shortValue(now) + " now)");
      } else {
        settings.add(name + " (" + shown(before) + " before, " + shown(now) + " now)");
      }
    }
    List<String> all = new ArrayList<>(inputs);
    all.addAll(settings);
    return all;
  }

  private static String shown(JsonNode value) {
    return value.isMissingNode() ? "not set" : value.isTextual() ? value.asText() : value.toString();
  }

  private static String shortValue(JsonNode value) {
    if (value.isMissingNode()) {
      return "none";
    }
    if (value.isObject()) {
      // External data: one digest per file.
      List<String> parts = new ArrayList<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        parts.add(e.getKey() + " " + shortValue(e.getValue()));
      }
      return String.join(", ", parts);
    }
    String text = value.asText();
    return text.length() > 12 ? text.substring(0, 12) + "…" : text;
  }
}
