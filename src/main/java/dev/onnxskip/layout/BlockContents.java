package dev.onnxskip.layout;

import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.TensorIndex;
import dev.onnxskip.graph.WeightInfo;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which nodes and weights belong to each block. A node belongs to block k when it lies on a path
 * from the block's input to its output, or when everything it feeds belongs to block k (its
 * constants, weight dequantization, reshape shapes). Nodes that feed several blocks, such as the
 * attention-mask computation, belong to none: they are shared.
 */
final class BlockContents {
  private BlockContents() {}

  /** The blocks, and the weights that several of them read and no one else does. */
  record Contents(List<Block> blocks, List<CrossLayerWeights> sharedWeights) {}

  static Contents of(Graph graph, TensorIndex index, List<String> boundaries) {
    List<Node> nodes = index.nodes();
    int layers = boundaries.size() - 1;
    int[] owner = new int[nodes.size()];
    Arrays.fill(owner, -1);
    for (int k = 0; k < layers; k++) {
      BitSet core = descendants(boundaries.get(k), index);
      core.and(ancestors(boundaries.get(k + 1), index));
      for (int i = core.nextSetBit(0); i >= 0; i = core.nextSetBit(i + 1)) {
        owner[i] = k;
      }
    }
    // The embeddings feed only block 0, but are no part of it.
    BitSet embeddings = ancestors(boundaries.get(0), index);
    // Consumers come after producers, so one backward sweep settles chains of support nodes.
    for (int i = nodes.size() - 1; i >= 0; i--) {
      if (owner[i] >= 0 || embeddings.get(i)) {
        continue;
      }
      int block = -2;
      for (String out : nodes.get(i).outputs()) {
        if (index.isGraphOutput(out)) {
          block = -1;
        }
        for (int c : index.consumers(out)) {
          block = block == -2 || block == owner[c] ? owner[c] : -1;
        }
      }
      owner[i] = Math.max(block, -1);
    }
    List<Block> blocks = new ArrayList<>();
    for (int k = 0; k < layers; k++) {
      List<Node> members = new ArrayList<>();
      Set<String> produced = new LinkedHashSet<>();
      for (int i = 0; i < nodes.size(); i++) {
        if (owner[i] == k) {
          members.add(nodes.get(i));
          produced.addAll(nodes.get(i).outputs());
        }
      }
      long params = 0;
      long bytes = 0;
      Set<String> sideInputs = new LinkedHashSet<>();
      Set<String> counted = new LinkedHashSet<>();
      for (Node n : members) {
        for (String in : n.allInputs()) {
          Optional<WeightInfo> init = graph.weight(in);
          if (init.isPresent()) {
            if (onlyUsedBy(in, k, owner, index) && counted.add(in)) {
              params += init.get().elementCount();
              bytes += init.get().byteSize();
            }
          } else if (!produced.contains(in) && !in.equals(boundaries.get(k))) {
            sideInputs.add(in);
          }
        }
      }
      blocks.add(new Block(k, boundaries.get(k), boundaries.get(k + 1), members, params, bytes, List.copyOf(sideInputs)));
    }
    return new Contents(blocks, sharedWeights(graph, index, owner));
  }

  /**
   * Initializers that only blocks read, and more than one of them, grouped by the blocks that read
   * them. Scalars and integer tensors do not count: exporters share constants and reshape shapes
   * between layers, which are no weights.
   */
  private static List<CrossLayerWeights> sharedWeights(Graph graph, TensorIndex index, int[] owner) {
    Map<List<Integer>, long[]> groups = new LinkedHashMap<>();
    for (String name : graph.initializers().keySet()) {
      WeightInfo w = graph.weight(name).orElseThrow();
      if (!w.elementType().isFloatingPoint() || w.elementCount() <= 1) {
        continue;
      }
      TreeSet<Integer> readers = new TreeSet<>();
      for (int c : index.consumers(name)) {
        readers.add(owner[c]);
      }
      if (readers.size() < 2 || readers.first() < 0) {
        continue;
      }
      long[] sums = groups.computeIfAbsent(List.copyOf(readers), r -> new long[2]);
      sums[0] += w.elementCount();
      sums[1] += w.byteSize();
    }
    List<CrossLayerWeights> shared = new ArrayList<>();
    groups.forEach((layers, sums) -> shared.add(new CrossLayerWeights(layers, sums[0], sums[1])));
    shared.sort(Comparator.comparing((CrossLayerWeights s) -> s.layers().get(0)).thenComparing(s -> s.layers().size()));
    return shared;
  }

  private static boolean onlyUsedBy(String tensor, int block, int[] owner, TensorIndex index) {
    return index.consumers(tensor).stream().allMatch(c -> owner[c] == block);
  }

  /** Nodes reachable from a tensor, shape paths included. */
  private static BitSet descendants(String tensor, TensorIndex index) {
    BitSet seen = new BitSet();
    ArrayDeque<String> todo = new ArrayDeque<>(List.of(tensor));
    while (!todo.isEmpty()) {
      for (int c : index.consumers(todo.pop())) {
        if (!seen.get(c)) {
          seen.set(c);
          todo.addAll(index.node(c).outputs());
        }
      }
    }
    return seen;
  }

  /** Nodes a tensor depends on. */
  private static BitSet ancestors(String tensor, TensorIndex index) {
    BitSet seen = new BitSet();
    ArrayDeque<String> todo = new ArrayDeque<>(List.of(tensor));
    while (!todo.isEmpty()) {
      var p = index.producer(todo.pop());
      if (p.isPresent() && !seen.get(p.get())) {
        seen.set(p.get());
        todo.addAll(index.node(p.get()).allInputs());
      }
    }
    return seen;
  }
}
