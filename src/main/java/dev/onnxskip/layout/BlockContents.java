package dev.onnxskip.layout;

import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.TensorIndex;
import dev.onnxskip.graph.WeightInfo;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which nodes and weights belong to each block. A node belongs to block k when it lies on a path
 * from the block's input to its output, or when everything it feeds belongs to block k (its
 * constants, weight dequantization, reshape shapes). Nodes that feed several blocks, such as the
 * attention-mask computation, belong to none: they are shared.
 */
final class BlockContents {
  private BlockContents() {}

  static List<Block> blocks(Graph graph, TensorIndex index, List<String> boundaries) {
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
    return blocks;
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
