package dev.onnxskip.graph;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorAnnotation;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.onnxskip.OnnxSkipException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A small mutable graph IR in the spirit of onnx-graphsurgeon: nodes, initializers and value infos
 * as Java collections, with explicit passes ({@link #cleanup()}, {@link #toposort()}). The protobuf
 * stays at the edges ({@link #fromProto}, {@link #toProto}); initializer protos are shared, never
 * copied, so many variants of one large model cost little memory.
 */
public final class Graph {

  private GraphProto shell;
  private final List<Node> nodes;
  private final LinkedHashMap<String, TensorProto> initializers;
  private final List<ValueInfoProto> inputs;
  private final List<ValueInfoProto> outputs;
  private final LinkedHashMap<String, ValueInfoProto> valueInfo;

  private Graph(
      GraphProto shell,
      List<Node> nodes,
      LinkedHashMap<String, TensorProto> initializers,
      List<ValueInfoProto> inputs,
      List<ValueInfoProto> outputs,
      LinkedHashMap<String, ValueInfoProto> valueInfo) {
    this.shell = shell;
    this.nodes = nodes;
    this.initializers = initializers;
    this.inputs = inputs;
    this.outputs = outputs;
    this.valueInfo = valueInfo;
  }

  public static Graph fromProto(GraphProto g) {
    List<Node> nodes = new ArrayList<>(g.getNodeCount());
    g.getNodeList().forEach(n -> nodes.add(new Node(n)));
    LinkedHashMap<String, TensorProto> inits = new LinkedHashMap<>();
    g.getInitializerList().forEach(t -> inits.put(t.getName(), t));
    LinkedHashMap<String, ValueInfoProto> vi = new LinkedHashMap<>();
    g.getValueInfoList().forEach(v -> vi.put(v.getName(), v));
    GraphProto shell =
        g.toBuilder()
            .clearNode()
            .clearInitializer()
            .clearInput()
            .clearOutput()
            .clearValueInfo()
            .build();
    return new Graph(
        shell, nodes, inits, new ArrayList<>(g.getInputList()), new ArrayList<>(g.getOutputList()), vi);
  }

  public GraphProto toProto() {
    GraphProto.Builder b = shell.toBuilder();
    nodes.forEach(n -> b.addNode(n.proto()));
    b.addAllInitializer(initializers.values());
    b.addAllInput(inputs);
    b.addAllOutput(outputs);
    b.addAllValueInfo(valueInfo.values());
    return b.build();
  }

  public String name() {
    return shell.getName();
  }

  public List<Node> nodes() {
    return Collections.unmodifiableList(nodes);
  }

  public Map<String, TensorProto> initializers() {
    return Collections.unmodifiableMap(initializers);
  }

  /** The shape and type of initializer {@code name}, if there is one. */
  public java.util.Optional<WeightInfo> weight(String name) {
    return java.util.Optional.ofNullable(initializers.get(name)).map(WeightInfo::of);
  }

  public List<ValueInfoProto> inputs() {
    return Collections.unmodifiableList(inputs);
  }

  public List<ValueInfoProto> outputs() {
    return Collections.unmodifiableList(outputs);
  }

  public Map<String, ValueInfoProto> valueInfo() {
    return Collections.unmodifiableMap(valueInfo);
  }

  public List<String> inputNames() {
    return inputs.stream().map(ValueInfoProto::getName).toList();
  }

  public List<String> outputNames() {
    return outputs.stream().map(ValueInfoProto::getName).toList();
  }

  /** Graph inputs that are real run-time inputs, not defaults backed by an initializer (IR < 4). */
  public List<ValueInfoProto> runtimeInputs() {
    return inputs.stream().filter(v -> !initializers.containsKey(v.getName())).toList();
  }

  public void addNode(Node node) {
    nodes.add(node);
  }

  public void replaceNode(int index, Node node) {
    nodes.set(index, node);
  }

  /** Removes the nodes that produce any of {@code tensors}, e.g. when constants replace them. */
  public void removeProducersOf(Set<String> tensors) {
    nodes.removeIf(n -> n.outputs().stream().anyMatch(tensors::contains));
  }

  public void addInitializer(TensorProto t) {
    initializers.put(t.getName(), t);
  }

  public void addInput(ValueInfoProto v) {
    inputs.add(v);
  }

  public void setInputs(List<ValueInfoProto> newInputs) {
    inputs.clear();
    inputs.addAll(newInputs);
  }

  public void setOutputs(List<ValueInfoProto> newOutputs) {
    outputs.clear();
    outputs.addAll(newOutputs);
  }

  public void putValueInfo(ValueInfoProto v) {
    valueInfo.put(v.getName(), v);
  }

  /**
   * Gives a tensor a new name at its producer, leaving its readers on the old name, which then
   * needs another definition (a graph input, an Identity). The producer's other outputs stay, so a
   * node with several outputs, such as EmbedLayerNormalization, still feeds their readers.
   */
  public void renameOutput(String tensor, String newName) {
    for (int i = 0; i < nodes.size(); i++) {
      NodeProto p = nodes.get(i).proto();
      int at = p.getOutputList().indexOf(tensor);
      if (at >= 0) {
        nodes.set(i, new Node(p.toBuilder().setOutput(at, newName).build()));
        return;
      }
    }
  }

  /** Every node that reads {@code from} reads {@code to} instead. Graph outputs are not touched. */
  public void redirectConsumers(String from, String to) {
    nodes.replaceAll(n -> n.inputs().contains(from) ? n.withInputRenamed(from, to) : n);
  }

  /**
   * Removes every node, initializer, value info and annotation that no graph output depends on.
   * Run-time graph inputs stay, even when unused, so that a variant keeps the input signature of its
   * source and remains a drop-in replacement. A quantization annotation stays with its tensor, and
   * keeps the scale and zero-point tensors it names.
   */
  public void cleanup() {
    Map<String, Node> producer = new HashMap<>();
    for (Node n : nodes) {
      for (String out : n.outputs()) {
        if (!out.isEmpty()) {
          producer.put(out, n);
        }
      }
    }
    Set<String> runtimeInputs = new HashSet<>();
    runtimeInputs().forEach(v -> runtimeInputs.add(v.getName()));
    Set<Node> live = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    Set<String> liveTensors = new HashSet<>();
    // Every output of a live node stays named, so value infos and annotations of those stay too.
    Set<String> defined = new HashSet<>();
    List<TensorAnnotation> annotations = new ArrayList<>(shell.getQuantizationAnnotationList());
    ArrayDeque<String> todo = new ArrayDeque<>(outputNames());
    while (!todo.isEmpty()) {
      while (!todo.isEmpty()) {
        String t = todo.pop();
        if (!liveTensors.add(t)) {
          continue;
        }
        defined.add(t);
        Node p = producer.get(t);
        if (p != null && live.add(p)) {
          todo.addAll(p.allInputs());
          defined.addAll(p.outputs());
        }
      }
      // The parameters of a kept annotation are live; their producers may define more annotated tensors.
      for (TensorAnnotation a : annotations) {
        if (defined.contains(a.getTensorName())) {
          a.getQuantParameterTensorNamesList().forEach(e -> {
            if (!liveTensors.contains(e.getValue())) {
              todo.add(e.getValue());
            }
          });
        }
      }
    }
    nodes.removeIf(n -> !live.contains(n));
    initializers.keySet().removeIf(name -> !liveTensors.contains(name));
    // Decided before the initializers went: a default whose initializer is gone is no run-time input.
    inputs.removeIf(v -> !liveTensors.contains(v.getName()) && !runtimeInputs.contains(v.getName()));
    valueInfo.keySet().removeIf(name -> !defined.contains(name));
    annotations.removeIf(a -> !defined.contains(a.getTensorName()));
    if (annotations.size() != shell.getQuantizationAnnotationCount()) {
      shell = shell.toBuilder().clearQuantizationAnnotation().addAllQuantizationAnnotation(annotations).build();
    }
  }

  /** Removes graph inputs no node reads; for sub-models, which need not keep a source's signature. */
  public void dropUnusedInputs() {
    Set<String> read = new HashSet<>(outputNames());
    nodes.forEach(n -> read.addAll(n.allInputs()));
    inputs.removeIf(v -> !read.contains(v.getName()));
  }

  /**
   * Orders nodes so that every node comes after the producers of its inputs, keeping the original
   * order where it is already valid (so a rewritten graph diffs cleanly against its source).
   *
   * @throws OnnxSkipException if the graph has a cycle, naming the nodes on one
   */
  public void toposort() {
    Map<String, Integer> producerIndex = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      for (String out : nodes.get(i).outputs()) {
        if (!out.isEmpty()) {
          producerIndex.put(out, i);
        }
      }
    }
    int n = nodes.size();
    int[] pending = new int[n];
    List<List<Integer>> dependents = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      dependents.add(new ArrayList<>());
    }
    for (int i = 0; i < n; i++) {
      Set<Integer> deps = new HashSet<>();
      for (String in : nodes.get(i).allInputs()) {
        Integer p = producerIndex.get(in);
        if (p != null && p != i) {
          deps.add(p);
        } else if (p != null) {
          throw new OnnxSkipException("graph has a cycle: node '" + nodes.get(i).label() + "' reads its own output '" + in + "'");
        }
      }
      pending[i] = deps.size();
      for (int d : deps) {
        dependents.get(d).add(i);
      }
    }
    // A priority queue on the original index keeps the original order where it is valid.
    java.util.PriorityQueue<Integer> ready = new java.util.PriorityQueue<>();
    for (int i = 0; i < n; i++) {
      if (pending[i] == 0) {
        ready.add(i);
      }
    }
    List<Node> sorted = new ArrayList<>(n);
    while (!ready.isEmpty()) {
      int i = ready.poll();
      sorted.add(nodes.get(i));
      for (int d : dependents.get(i)) {
        if (--pending[d] == 0) {
          ready.add(d);
        }
      }
    }
    if (sorted.size() != n) {
      throw new OnnxSkipException("graph has a cycle: " + describeCycle(pending, dependents));
    }
    nodes.clear();
    nodes.addAll(sorted);
  }

  /**
   * One cycle among the nodes that a topological sort left over, as node labels in data-flow
   * order from the node that comes first, e.g. {@code 'A' -> 'B' -> 'A'}. A node is left over
   * because it waits for a left-over producer, so following those producers from any left-over
   * node must come back on itself.
   */
  private String describeCycle(int[] pending, List<List<Integer>> dependents) {
    Map<Integer, Integer> waitsFor = new HashMap<>();
    for (int p = 0; p < nodes.size(); p++) {
      if (pending[p] > 0) {
        for (int d : dependents.get(p)) {
          if (pending[d] > 0) {
            waitsFor.putIfAbsent(d, p);
          }
        }
      }
    }
    int i = 0;
    while (pending[i] == 0) {
      i++;
    }
    List<Integer> walk = new ArrayList<>();
    while (!walk.contains(i)) {
      walk.add(i);
      i = waitsFor.get(i);
    }
    List<Integer> cycle = new ArrayList<>(walk.subList(walk.indexOf(i), walk.size()));
    Collections.reverse(cycle);
    // Start at the node that comes first in the file, so the same cycle always reads the same.
    Collections.rotate(cycle, -cycle.indexOf(Collections.min(cycle)));
    cycle.add(cycle.get(0));
    return cycle.stream().map(c -> "'" + nodes.get(c).label() + "'").collect(Collectors.joining(" -> "));
  }

  /**
   * Checks that every tensor a node reads is defined by a node, an initializer or a graph input,
   * and that every graph output is defined.
   *
   * @throws OnnxSkipException naming the first dangling tensor and its reader
   */
  public void checkDefined() {
    Set<String> defined = new HashSet<>(initializers.keySet());
    defined.addAll(inputNames());
    nodes.forEach(n -> defined.addAll(n.outputs()));
    for (Node n : nodes) {
      for (String in : n.allInputs()) {
        if (!defined.contains(in)) {
          throw new OnnxSkipException(
              "node '" + n.label() + "' reads tensor '" + in + "', which no node, initializer or graph input defines");
        }
      }
    }
    for (String out : outputNames()) {
      if (!defined.contains(out)) {
        throw new OnnxSkipException("graph output '" + out + "' is not produced by any node");
      }
    }
  }
}
