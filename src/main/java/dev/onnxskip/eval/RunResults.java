package dev.onnxskip.eval;

import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.Variant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Everything one {@code eval} run produced, as written to and read from {@code results.json}.
 *
 * <p>{@code config} and {@code provenance} hold plain JSON-like values (strings, numbers, booleans,
 * null, lists and maps of them); any other value is stored as its {@code toString()}. They are copied
 * on construction; a map whose order is not defined
 * by the caller (anything but a {@link LinkedHashMap} or {@link SortedMap}, e.g. {@code Map.of},
 * whose order changes from one JVM to the next) is put in key order, so that the same run always
 * writes the same bytes.
 *
 * @param labels the label names, in the index order of the metrics
 * @param layers the number of encoder layers of the model
 * @param variants the baseline first, then the evaluated spans in {@link SkipSpan} order (a run may
 *     evaluate only some spans)
 * @param timestamp when the run happened, as the caller formats it (ISO-8601 recommended)
 * @param findings the statistics of every variant, in the order of {@code variants}, when computed
 * @param layerMetrics the label-free layer metrics of every span, when computed
 */
public record RunResults(
    Map<String, Object> config,
    Map<String, Object> provenance,
    List<String> labels,
    int layers,
    List<VariantResult> variants,
    String timestamp,
    Optional<Findings> findings,
    Optional<LayerMetrics> layerMetrics) {

  /** Results without statistics, as read from a results file or built by hand. */
  public RunResults(Map<String, Object> config, Map<String, Object> provenance, List<String> labels, int layers,
      List<VariantResult> variants, String timestamp) {
    this(config, provenance, labels, layers, variants, timestamp, Optional.empty());
  }

  /** Results with statistics and without layer metrics. */
  public RunResults(Map<String, Object> config, Map<String, Object> provenance, List<String> labels, int layers,
      List<VariantResult> variants, String timestamp, Optional<Findings> findings) {
    this(config, provenance, labels, layers, variants, timestamp, findings, Optional.empty());
  }

  public RunResults {
    Objects.requireNonNull(findings, "findings");
    Objects.requireNonNull(layerMetrics, "layerMetrics");
    if (findings.isPresent()) {
      List<Variant> order = variants.stream().map(VariantResult::variant).toList();
      if (!findings.get().variants().stream().map(Findings.VariantFindings::variant).toList().equals(order)) {
        throw new IllegalArgumentException("findings are not of the variants " + order);
      }
    }
    config = canonicalMap(Objects.requireNonNull(config, "config"));
    provenance = canonicalMap(Objects.requireNonNull(provenance, "provenance"));
    labels = List.copyOf(labels);
    variants = List.copyOf(variants);
    Objects.requireNonNull(timestamp, "timestamp");
    if (layers < 1) {
      throw new IllegalArgumentException("a model has at least one layer, not " + layers);
    }
    if (variants.isEmpty() || !variants.get(0).isBaseline()) {
      throw new IllegalArgumentException("the first variant must be the baseline (span null)");
    }
    SkipSpan previous = null;
    for (int i = 0; i < variants.size(); i++) {
      VariantResult v = variants.get(i);
      if (!v.metrics().labels().equals(labels)) {
        throw new IllegalArgumentException("variant " + v.name() + " is scored on labels "
            + v.metrics().labels() + ", not " + labels);
      }
      if (i == 0) {
        continue;
      }
      if (v.isBaseline()) {
        throw new IllegalArgumentException("more than one baseline among the variants");
      }
      if (v.span().end() >= layers) {
        throw new IllegalArgumentException(
            "span " + v.span() + " lies outside the " + layers + " layers (0-" + (layers - 1) + ")");
      }
      if (previous != null && previous.compareTo(v.span()) >= 0) {
        throw new IllegalArgumentException(
            "spans must be in order without repeats, but " + v.span() + " follows " + previous);
      }
      previous = v.span();
    }
  }

  public VariantResult baseline() {
    return variants.get(0);
  }

  /** The skip variants, without the baseline. */
  public List<VariantResult> spans() {
    return variants.subList(1, variants.size());
  }

  public Optional<VariantResult> variant(SkipSpan span) {
    return spans().stream().filter(v -> v.span().equals(span)).findFirst();
  }

  private static Map<String, Object> canonicalMap(Map<?, ?> map) {
    boolean ordered = map instanceof LinkedHashMap<?, ?> || map instanceof SortedMap<?, ?>;
    Map<String, Object> copy = ordered ? new LinkedHashMap<>() : new TreeMap<>();
    map.forEach((k, v) -> copy.put(String.valueOf(k), canonical(v)));
    return Collections.unmodifiableMap(copy);
  }

  private static Object canonical(Object value) {
    if (value instanceof Map<?, ?> map) {
      return canonicalMap(map);
    }
    if (value instanceof Collection<?> list) {
      List<Object> copy = new ArrayList<>(list.size());
      list.forEach(item -> copy.add(canonical(item)));
      return Collections.unmodifiableList(copy);
    }
    if (value == null || value instanceof String || value instanceof Number || value instanceof Boolean) {
      return value;
    }
    // Anything else (a Path, an enum) is kept as its text, which is how it reads back from JSON.
    return value.toString();
  }
}
