package dev.onnxskip.layout;

import dev.onnxskip.graph.TensorIndex;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The hint that named exports give: node scopes such as {@code /encoder/layer.3/},
 * {@code /bert/encoder/layer.3/}, {@code /roberta/encoder/layer.3/} or DistilBERT's
 * {@code /distilbert/transformer/layer.3/}. Only boundaries that lie on the residual stream are
 * returned, so a misleading name cannot place a boundary off the stream.
 */
final class NameScopes {

  private static final Pattern LAYER_SCOPE = Pattern.compile("/(encoder|transformer)/layers?[._](\\d+)/");

  /** Boundaries derived from names, and the scope pattern seen, e.g. "/encoder/layer.N". */
  record Result(List<String> boundaries, String pattern) {}

  private NameScopes() {}

  static Optional<Result> boundaries(TensorIndex index, ResidualStream stream) {
    // First and last position on the residual stream of a tensor produced inside each layer scope.
    TreeMap<Integer, int[]> span = new TreeMap<>();
    String pattern = null;
    List<String> chain = stream.chain;
    for (int i = 0; i < chain.size(); i++) {
      Optional<Integer> p = index.producer(chain.get(i));
      if (p.isEmpty()) {
        continue;
      }
      Matcher m = LAYER_SCOPE.matcher(index.node(p.get()).name());
      if (!m.find()) {
        continue;
      }
      String prefix = index.node(p.get()).name().substring(0, m.start(2));
      pattern = prefix + "N";
      int layer = Integer.parseInt(m.group(2));
      int at = i;
      span.compute(layer, (k, v) -> v == null ? new int[] {at, at} : new int[] {Math.min(v[0], at), Math.max(v[1], at)});
    }
    if (span.isEmpty() || span.firstKey() != 0 || span.lastKey() != span.size() - 1) {
      return Optional.empty();
    }
    List<String> boundaries = new ArrayList<>();
    int previousEnd = -1;
    for (int[] s : span.values()) {
      // A layer's input is the stream tensor just before its first one; scopes must not interleave.
      if (s[0] == 0 || s[0] <= previousEnd) {
        return Optional.empty();
      }
      boundaries.add(chain.get(s[0] - 1));
      previousEnd = s[1];
    }
    boundaries.add(chain.get(previousEnd));
    return Optional.of(new Result(boundaries, pattern));
  }
}
