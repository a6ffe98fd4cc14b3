package dev.onnxskip.layout;

import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.TensorIndex;
import dev.onnxskip.graph.WeightInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The width of the residual stream, read from the weights that write it. The embedding table's
 * width is not always it: ALBERT projects its 128-wide embeddings to the 768-wide stream. What
 * writes a boundary is a LayerNorm (post-LN) or a residual Add of a Linear's output (pre-LN);
 * either way a 1-D weight that broadcasts over the last axis (a LayerNorm's gamma or beta, a
 * Linear's bias) lies a few element-wise ops above it, and is as wide as the stream.
 */
final class StreamWidth {
  private StreamWidth() {}

  /** Ops whose output has the last axis of their stream-shaped inputs. */
  private static final Set<String> LAST_AXIS_KEEPING = Set.of("Add", "Sub", "Mul", "Div", "LayerNormalization",
      "SkipLayerNormalization", "SimplifiedLayerNormalization", "SkipSimplifiedLayerNormalization", "QuantizeLinear",
      "DequantizeLinear", "Cast", "Identity");

  private static final int MAX_HOPS = 4;

  /**
   * The stream width the most boundaries tell (the later boundary on a tie), or
   * {@code embeddingWidth} when none tells.
   */
  static long of(List<String> boundaries, Graph graph, TensorIndex index, long embeddingWidth) {
    Map<Long, Integer> votes = new HashMap<>();
    long best = -1;
    for (String b : boundaries) {
      OptionalLong w = at(b, graph, index);
      if (w.isPresent()) {
        int n = votes.merge(w.getAsLong(), 1, Integer::sum);
        if (best < 0 || n >= votes.get(best)) {
          best = w.getAsLong();
        }
      }
    }
    return best > 0 ? best : embeddingWidth;
  }

  /** The width of the 1-D weight nearest above {@code tensor} through last-axis-keeping ops, breadth first. */
  static OptionalLong at(String tensor, Graph graph, TensorIndex index) {
    List<String> frontier = List.of(tensor);
    for (int hops = 0; hops < MAX_HOPS && !frontier.isEmpty(); hops++) {
      List<String> next = new ArrayList<>();
      for (String t : frontier) {
        Optional<Integer> p = index.producer(t);
        if (p.isEmpty()) {
          continue;
        }
        Node n = index.node(p.get());
        if (!LAST_AXIS_KEEPING.contains(n.opType())) {
          continue;
        }
        for (String in : n.inputs()) {
          Optional<WeightInfo> w = graph.weight(in);
          if (w.isEmpty()) {
            next.add(in);
          } else if (isVector(w.get())) {
            return OptionalLong.of(w.get().dims().get(0));
          }
        }
      }
      frontier = next;
    }
    return OptionalLong.empty();
  }

  /** A 1-D float weight of more than one element: no scalar, no zero point, no shape. */
  private static boolean isVector(WeightInfo w) {
    return w.dims().size() == 1 && w.dims().get(0) > 1 && w.elementType().isFloatingPoint();
  }
}
