package dev.onnxskip.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.onnxskip.eval.LayerMetrics;
import java.util.List;

/**
 * The {@code layer_metrics} of results.json: per layer its Block Influence, per evaluated span its
 * label-free metrics, each overall and per label; their agreement with the accuracy drop; and the
 * spans each metric would drop first.
 */
final class LayerMetricsJson {
  private LayerMetricsJson() {}

  static ObjectNode of(LayerMetrics m) {
    ObjectNode node = ResultsJson.MAPPER.createObjectNode();
    List<String> groups = m.groups();
    int overall = groups.size() - 1;
    ArrayNode layers = node.putArray("per_layer");
    for (LayerMetrics.LayerFigures l : m.layers()) {
      ObjectNode layer = layers.addObject();
      layer.put("layer", l.layer());
      ObjectNode bi = layer.putObject("block_influence");
      put(bi, groups.get(overall), l.blockInfluence()[overall]);
      ObjectNode perLabel = bi.putObject("per_label");
      for (int g = 0; g < overall; g++) {
        put(perLabel, groups.get(g), l.blockInfluence()[g]);
      }
    }
    ArrayNode spans = node.putArray("per_span");
    for (LayerMetrics.SpanFigures s : m.spans()) {
      ObjectNode span = spans.addObject();
      span.putArray("span").add(s.span().start()).add(s.span().end());
      span.set("overall", values(s.byGroup().get(overall)));
      ObjectNode perLabel = span.putObject("per_label");
      for (int g = 0; g < overall; g++) {
        perLabel.set(groups.get(g), values(s.byGroup().get(g)));
      }
    }
    ObjectNode agreement = node.putObject("spearman_with_accuracy_drop");
    for (LayerMetrics.Agreement a : m.agreement()) {
      ObjectNode metric = agreement.has(a.metric().key()) ? (ObjectNode) agreement.get(a.metric().key()) : agreement.putObject(a.metric().key());
      if (a.spearman().isPresent()) {
        metric.put(a.group(), a.spearman().getAsDouble());
      } else {
        metric.putNull(a.group());
      }
    }
    ArrayNode picks = node.putArray("first_to_drop");
    for (int k = 1; k <= 3; k++) {
      int dropped = k;
      List<LayerMetrics.Pick> ofK = m.picks().stream().filter(p -> p.layersDropped() == dropped).toList();
      if (ofK.isEmpty()) {
        continue;
      }
      ObjectNode pick = picks.addObject();
      pick.put("layers", k);
      for (LayerMetrics.Pick p : ofK) {
        pick.put(p.metric().map(LayerMetrics.Metric::key).orElse("accuracy"), p.span().name());
      }
    }
    return node;
  }

  private static ObjectNode values(LayerMetrics.SpanValues v) {
    ObjectNode node = ResultsJson.MAPPER.createObjectNode();
    for (LayerMetrics.Metric metric : LayerMetrics.Metric.values()) {
      put(node, metric.key(), v.get(metric));
    }
    return node;
  }

  private static void put(ObjectNode node, String field, double value) {
    if (Double.isNaN(value)) {
      node.putNull(field);
    } else {
      node.put(field, value);
    }
  }
}
