package dev.onnxskip.rewrite;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.OnnxModel;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What a variant records about itself in {@code metadata_props}, so that a file found later can
 * say which layers it skips and what it was made from.
 *
 * @param span the skipped layers
 * @param sourceLayers how many layers the source model had
 * @param sourceSha256 hex sha256 of the source model file (or of its bytes, for in-memory models)
 * @param toolVersion the onnx-skip version that wrote it
 */
public record Provenance(SkipSpan span, int sourceLayers, String sourceSha256, String toolVersion) {

  static final String SPAN = "onnx_skip.skipped_span";
  static final String LAYERS = "onnx_skip.skipped_layers";
  static final String SOURCE_LAYERS = "onnx_skip.source_layers";
  static final String SOURCE_SHA = "onnx_skip.source_sha256";
  static final String VERSION = "onnx_skip.version";

  Map<String, String> toMetadata() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(SPAN, span.toString());
    StringBuilder layers = new StringBuilder();
    for (int l = span.start(); l <= span.end(); l++) {
      layers.append(l == span.start() ? "" : ",").append(l);
    }
    m.put(LAYERS, layers.toString());
    m.put(SOURCE_LAYERS, Integer.toString(sourceLayers));
    m.put(SOURCE_SHA, sourceSha256);
    m.put(VERSION, toolVersion);
    return m;
  }

  /** The provenance of a variant written by this tool; empty for any other model. */
  public static Optional<Provenance> read(OnnxModel model) {
    Map<String, String> m = model.metadata();
    if (!m.containsKey(SPAN)) {
      return Optional.empty();
    }
    SkipSpan span;
    int sourceLayers;
    try {
      span = SkipSpans.parseSyntax(m.get(SPAN));
      sourceLayers = Integer.parseInt(m.getOrDefault(SOURCE_LAYERS, "-1"));
    } catch (IllegalArgumentException e) {
      // NumberFormatException is one: a hand-edited or foreign file, not a bug of this tool.
      throw new OnnxSkipException(model.describe() + ": metadata " + SPAN + " / " + SOURCE_LAYERS + " is not what onnx-skip writes: "
          + e.getMessage());
    }
    return Optional.of(new Provenance(span, sourceLayers, m.getOrDefault(SOURCE_SHA, ""), m.getOrDefault(VERSION, "")));
  }

  public String describe() {
    return "skips layers " + span + " of a " + sourceLayers + "-layer model (source sha256 " + sourceSha256 + ", onnx-skip " + toolVersion + ")";
  }

  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("span", java.util.List.of(span.start(), span.end()));
    m.put("source_layers", sourceLayers);
    m.put("source_sha256", sourceSha256);
    m.put("tool_version", toolVersion);
    return m;
  }
}
