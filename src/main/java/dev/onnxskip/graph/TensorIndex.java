package dev.onnxskip.graph;

import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Who produces and who consumes each tensor of a graph, as a snapshot: rebuild it after a rewrite.
 * Nodes are referred to by their position in {@link Graph#nodes()}.
 */
public final class TensorIndex {
  private final List<Node> nodes;
  private final Map<String, Integer> producer = new HashMap<>();
  private final Map<String, List<Integer>> consumers = new HashMap<>();
  private final Set<String> initializers;
  private final Set<String> graphInputs;
  private final Set<String> graphOutputs;

  public TensorIndex(Graph graph) {
    this.nodes = List.copyOf(graph.nodes());
    for (int i = 0; i < nodes.size(); i++) {
      for (String out : nodes.get(i).outputs()) {
        if (!out.isEmpty()) {
          producer.put(out, i);
        }
      }
      for (String in : nodes.get(i).allInputs()) {
        consumers.computeIfAbsent(in, k -> new java.util.ArrayList<>()).add(i);
      }
    }
    this.initializers = Set.copyOf(graph.initializers().keySet());
    this.graphInputs = new HashSet<>(graph.inputNames());
    this.graphOutputs = new HashSet<>(graph.outputNames());
  }

  public List<Node> nodes() {
    return nodes;
  }

  public Node node(int index) {
    return nodes.get(index);
  }

  /** The index of the node producing {@code tensor}; empty for graph inputs, initializers and unknowns. */
  public Optional<Integer> producer(String tensor) {
    return Optional.ofNullable(producer.get(tensor));
  }

  /** Indices of the nodes reading {@code tensor}, each once, in graph order. */
  public List<Integer> consumers(String tensor) {
    List<Integer> c = consumers.get(tensor);
    return c == null ? List.of() : Collections.unmodifiableList(c);
  }

  public boolean isInitializer(String tensor) {
    return initializers.contains(tensor);
  }

  public boolean isGraphInput(String tensor) {
    return graphInputs.contains(tensor) && !initializers.contains(tensor);
  }

  public boolean isGraphOutput(String tensor) {
    return graphOutputs.contains(tensor);
  }

  /** Whether any node, initializer or graph input defines this tensor. */
  public boolean isDefined(String tensor) {
    return producer.containsKey(tensor) || initializers.contains(tensor) || graphInputs.contains(tensor);
  }
}
