package dev.onnxskip.layout;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.ElementType;
import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.TensorIndex;
import dev.onnxskip.graph.WeightInfo;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The residual stream of an encoder, found from structure alone: the chain of tensors that every
 * data path from the token embeddings to the graph outputs passes through (the dominators of the
 * outputs, seen from the embedding lookup). Encoder block boundaries are links of this chain.
 *
 * <p>Paths through {@code Shape} and {@code Size} carry only sizes, not data, so they are cut;
 * otherwise a reshape that reads the embeddings' shape would give a path around every layer.
 */
final class ResidualStream {

  private static final Set<String> SIZE_ONLY_OPS = Set.of("Shape", "Size");

  /** ONNX Runtime's fused embeddings, float and quantized; input 2 is the word table of both. */
  private static final Set<String> FUSED_EMBEDDINGS = Set.of("EmbedLayerNormalization", "QEmbedLayerNormalization");

  /** The token-embedding lookup the stream starts from. */
  final TokenEmbedding embedding;
  /** The tensor the stream starts from: the output of the token-embedding lookup. */
  final String source;
  /** Dominator chain from {@link #source} to the outputs, in data-flow order. */
  final List<String> chain;

  private final Map<String, Integer> chainIndex = new HashMap<>();
  private final Map<String, String> idom;

  /**
   * The token-embedding table: its output tensor, rows (the vocabulary the model accepts), width
   * (the hidden size) and element type.
   */
  record TokenEmbedding(String output, long rows, long width, ElementType elemType) {}

  private ResidualStream(TokenEmbedding embedding, List<String> chain, Map<String, String> idom) {
    this.embedding = embedding;
    this.source = embedding.output();
    this.chain = List.copyOf(chain);
    this.idom = idom;
    for (int i = 0; i < chain.size(); i++) {
      chainIndex.put(chain.get(i), i);
    }
  }

  int indexOf(String tensor) {
    Integer i = chainIndex.get(tensor);
    return i == null ? -1 : i;
  }

  /**
   * The last chain tensor that dominates {@code tensor}: for a tensor inside an encoder block, the
   * block's input. Empty if the tensor is not on a path from the embeddings to the outputs.
   */
  Optional<String> anchorOf(String tensor) {
    String t = tensor;
    while (t != null && !chainIndex.containsKey(t)) {
      t = idom.get(t);
    }
    return Optional.ofNullable(t);
  }

  static ResidualStream of(Graph graph, TensorIndex index) {
    TokenEmbedding embedding = tokenEmbedding(graph, index);
    String source = embedding.output();
    // Forward reachability from the source over data edges, in topological order of tensors.
    List<String> order = new ArrayList<>();
    Map<String, List<String>> preds = new HashMap<>();
    Set<String> reached = new HashSet<>();
    reached.add(source);
    order.add(source);
    for (Node n : index.nodes()) {
      if (SIZE_ONLY_OPS.contains(n.opType())) {
        continue;
      }
      List<String> fromStream = n.allInputs().stream().filter(reached::contains).toList();
      if (fromStream.isEmpty()) {
        continue;
      }
      for (String out : n.outputs()) {
        if (out.isEmpty() || !reached.add(out)) {
          continue;
        }
        order.add(out);
        preds.put(out, fromStream);
      }
    }
    List<String> sinks = graph.outputNames().stream().filter(reached::contains).toList();
    if (sinks.isEmpty()) {
      throw new OnnxSkipException(
          "no graph output depends on the token embeddings '" + source + "': not an encoder");
    }
    // Keep only tensors that lead to an output; the rest (e.g. attention probabilities exported
    // for inspection) must not take part in dominance.
    Set<String> useful = new HashSet<>(sinks);
    ArrayDeque<String> todo = new ArrayDeque<>(sinks);
    while (!todo.isEmpty()) {
      for (String p : preds.getOrDefault(todo.pop(), List.of())) {
        if (useful.add(p)) {
          todo.push(p);
        }
      }
    }
    Map<String, Integer> topo = new HashMap<>();
    List<String> usefulOrder = new ArrayList<>();
    for (String t : order) {
      if (useful.contains(t)) {
        topo.put(t, usefulOrder.size());
        usefulOrder.add(t);
      }
    }
    // Immediate dominators on a DAG: intersect the dominator paths of all predecessors, visiting
    // tensors in topological order (Cooper, Harvey and Kennedy's scheme without iteration).
    Map<String, String> idom = new HashMap<>();
    for (String t : usefulOrder) {
      if (t.equals(source)) {
        continue;
      }
      String d = null;
      for (String p : preds.get(t)) {
        if (!useful.contains(p)) {
          continue;
        }
        d = d == null ? p : intersect(d, p, idom, topo);
      }
      idom.put(t, d);
    }
    String sinkDom = null;
    for (String s : sinks) {
      sinkDom = sinkDom == null ? s : intersect(sinkDom, s, idom, topo);
    }
    List<String> chain = new ArrayList<>();
    for (String t = sinkDom; t != null; t = idom.get(t)) {
      chain.add(t);
    }
    Collections.reverse(chain);
    return new ResidualStream(embedding, chain, idom);
  }

  private static String intersect(String a, String b, Map<String, String> idom, Map<String, Integer> topo) {
    while (!a.equals(b)) {
      while (topo.get(a) > topo.get(b)) {
        a = idom.get(a);
      }
      while (topo.get(b) > topo.get(a)) {
        b = idom.get(b);
      }
    }
    return a;
  }

  /**
   * The token-embedding lookup: a {@code Gather} from a 2-D weight table indexed by a graph input
   * (the one with the most rows, i.e. the vocabulary, when there are several), or a fused
   * {@code EmbedLayerNormalization} or {@code QEmbedLayerNormalization}, whose input 2 is the word
   * table.
   */
  static TokenEmbedding tokenEmbedding(Graph graph, TensorIndex index) {
    TokenEmbedding best = null;
    for (Node n : index.nodes()) {
      boolean fused = FUSED_EMBEDDINGS.contains(n.opType()) && n.inputs().size() > 2;
      boolean gather = n.opType().equals("Gather") && n.inputs().size() == 2;
      if (!fused && !gather) {
        continue;
      }
      String table = fused ? n.inputs().get(2) : n.inputs().get(0);
      String ids = fused ? n.inputs().get(0) : n.inputs().get(1);
      Optional<WeightInfo> weights = weightTable(table, graph, index);
      if (weights.isEmpty() || weights.get().dims().size() != 2 || !readsGraphInput(ids, index)) {
        continue;
      }
      WeightInfo w = weights.get();
      TokenEmbedding candidate = new TokenEmbedding(n.outputs().get(0), w.dims().get(0), w.dims().get(1), w.elementType());
      if (fused) {
        return candidate;
      }
      if (best == null || candidate.rows() > best.rows()) {
        best = candidate;
      }
    }
    if (best == null) {
      throw new OnnxSkipException(
          "no token-embedding lookup found (a Gather from a 2-D weight table indexed by a graph input): not a transformer encoder");
    }
    return best;
  }

  /** Token-type tables have one or two rows, position tables hundreds; this tells them apart. */
  private static final int MIN_POSITION_ROWS = 16;

  /**
   * How many positions the model's position-embedding table serves, or -1 when none is found. The
   * table is input 3 of a fused embedding op, or a {@code Gather} from a 2-D weight table as wide as
   * the token table, with at least {@link #MIN_POSITION_ROWS} rows, whose ids are not a graph input
   * (positions are computed in the graph). When the ids come from a {@code CumSum} over the tokens,
   * as RoBERTa computes them, they start after the padding id (1 in RoBERTa and its kin), so the
   * first two rows are never used for a position. The smallest, if there are several.
   */
  static long positionRows(Graph graph, TensorIndex index, TokenEmbedding tokens) {
    long rows = -1;
    for (Node n : index.nodes()) {
      String table;
      long unused = 0;
      if (FUSED_EMBEDDINGS.contains(n.opType()) && n.inputs().size() > 3) {
        table = n.inputs().get(3);
      } else if (n.opType().equals("Gather") && n.inputs().size() == 2 && !n.outputs().get(0).equals(tokens.output())
          && !readsGraphInput(n.inputs().get(1), index)) {
        table = n.inputs().get(0);
        unused = computedByCumSum(n.inputs().get(1), index) ? 2 : 0;
      } else {
        continue;
      }
      Optional<WeightInfo> w = weightTable(table, graph, index);
      if (w.isPresent() && w.get().dims().size() == 2 && w.get().dims().get(1) == tokens.width() && w.get().dims().get(0) >= MIN_POSITION_ROWS) {
        long positions = w.get().dims().get(0) - unused;
        rows = rows < 0 ? positions : Math.min(rows, positions);
      }
    }
    return rows;
  }

  /** Whether a {@code CumSum} lies a few ops above {@code tensor}. */
  private static boolean computedByCumSum(String tensor, TensorIndex index) {
    List<String> frontier = List.of(tensor);
    for (int hops = 0; hops < 6 && !frontier.isEmpty(); hops++) {
      List<String> next = new ArrayList<>();
      for (String t : frontier) {
        Optional<Integer> p = index.producer(t);
        if (p.isPresent()) {
          Node n = index.node(p.get());
          if (n.opType().equals("CumSum")) {
            return true;
          }
          next.addAll(n.inputs());
        }
      }
      frontier = next;
    }
    return false;
  }

  /** A weight table that is an initializer, possibly behind a DequantizeLinear or Cast. */
  private static Optional<WeightInfo> weightTable(String tensor, Graph graph, TensorIndex index) {
    String t = tensor;
    for (int hops = 0; hops < 3; hops++) {
      Optional<WeightInfo> init = graph.weight(t);
      if (init.isPresent()) {
        return init;
      }
      Optional<Integer> p = index.producer(t);
      if (p.isEmpty()) {
        return Optional.empty();
      }
      Node n = index.node(p.get());
      if (!Set.of("DequantizeLinear", "Cast", "Identity").contains(n.opType())) {
        return Optional.empty();
      }
      t = n.inputs().get(0);
    }
    return Optional.empty();
  }

  /** Whether the ids come from a graph input, possibly through Cast, Unsqueeze or Reshape. */
  private static boolean readsGraphInput(String tensor, TensorIndex index) {
    String t = tensor;
    for (int hops = 0; hops < 4; hops++) {
      if (index.isGraphInput(t)) {
        return true;
      }
      Optional<Integer> p = index.producer(t);
      if (p.isEmpty()) {
        return false;
      }
      Node n = index.node(p.get());
      if (!Set.of("Cast", "Unsqueeze", "Reshape", "Identity", "Squeeze", "Flatten").contains(n.opType())) {
        return false;
      }
      t = n.inputs().get(0);
    }
    return false;
  }
}
