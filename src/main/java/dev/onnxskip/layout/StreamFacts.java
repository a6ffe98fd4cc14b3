package dev.onnxskip.layout;

import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.TensorIndex;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What structure says about the residual stream, position by position: which attention ops hang
 * off it (and where), and where a LayerNorm ends on it. Detection and every cross-check read these
 * facts, so that names can be weighed against the same evidence that structure uses.
 */
final class StreamFacts {

  private static final Set<String> ATTENTION_CONTRIB_OPS =
      Set.of("Attention", "QAttention", "MultiHeadAttention", "PackedAttention", "PackedMultiHeadAttention",
          "GroupQueryAttention");

  private static final Set<String> LAYER_NORM_OPS =
      Set.of("LayerNormalization", "SkipLayerNormalization", "SimplifiedLayerNormalization", "SkipSimplifiedLayerNormalization");

  final ResidualStream stream;
  final TensorIndex index;
  /** For every attention op on the stream, in graph order, the chain position of its anchor. */
  final List<Integer> attentionAnchors;
  private final boolean[] layerNormEnd;

  StreamFacts(TensorIndex index, ResidualStream stream) {
    this.stream = stream;
    this.index = index;
    List<Integer> anchors = new ArrayList<>();
    for (Node n : index.nodes()) {
      if (isAttention(n)) {
        stream.anchorOf(n.outputs().get(0)).ifPresent(a -> anchors.add(stream.indexOf(a)));
      }
    }
    this.attentionAnchors = List.copyOf(anchors);
    List<String> chain = stream.chain;
    this.layerNormEnd = new boolean[chain.size()];
    for (int i = 0; i < chain.size(); i++) {
      layerNormEnd[i] = isLayerNormEnd(chain.get(i), index);
    }
  }

  int length() {
    return stream.chain.size();
  }

  /** LayerNorms that end at chain positions {@code from < i <= to}. */
  int layerNorms(int from, int to) {
    int n = 0;
    for (int i = Math.max(from + 1, 0); i <= to && i < layerNormEnd.length; i++) {
      n += layerNormEnd[i] ? 1 : 0;
    }
    return n;
  }

  boolean isLayerNormEnd(int position) {
    return layerNormEnd[position];
  }

  /** Attention ops anchored at chain positions {@code from <= i < to}. */
  int attention(int from, int to) {
    return (int) attentionAnchors.stream().filter(a -> a >= from && a < to).count();
  }

  /** The node that writes the chain tensor at {@code position}; empty for the stream's source. */
  Optional<Node> producer(int position) {
    return index.producer(stream.chain.get(position)).map(index::node);
  }

  /** The producer's op type of each chain tensor at positions {@code from <= i < to}. */
  List<String> producerOps(int from, int to) {
    return stream.chain.subList(from, to).stream()
        .map(t -> index.producer(t).map(p -> index.node(p).opType()).orElse(""))
        .toList();
  }

  /**
   * How many times over the stretch at chain positions {@code from < i <= to} is one shorter
   * stretch that holds two or more LayerNorms, as two post-LN blocks are when taken for one; 1 if
   * it is not. A unit with fewer LayerNorms proves nothing: a fused block's stream is two
   * SkipLayerNormalizations, a pre-LN block's two Adds, each the same op twice.
   */
  int repeats(int from, int to) {
    List<String> ops = producerOps(from + 1, to + 1);
    int n = ops.size();
    for (int unit = 1; unit <= n / 2; unit++) {
      if (n % unit == 0 && layerNorms(from, from + unit) >= 2 && isRepetition(ops, ops.subList(0, unit))) {
        return n / unit;
      }
    }
    return 1;
  }

  /** Whether {@code ops} is {@code unit} written out two or more times. */
  static boolean isRepetition(List<String> ops, List<String> unit) {
    if (unit.isEmpty() || ops.size() <= unit.size() || ops.size() % unit.size() != 0) {
      return false;
    }
    for (int i = 0; i < ops.size(); i++) {
      if (!ops.get(i).equals(unit.get(i % unit.size()))) {
        return false;
      }
    }
    return true;
  }

  /** LayerNorms among {@code nodes}, in either form, each counted once at its end. */
  static int layerNormsIn(List<Node> nodes, TensorIndex index) {
    return (int) nodes.stream().filter(n -> !n.outputs().isEmpty() && isLayerNormEnd(n.outputs().get(0), index)).count();
  }

  static boolean isAttention(Node n) {
    boolean softmax = n.opType().equals("Softmax") && n.inDefaultDomain();
    return softmax || (n.domain().equals("com.microsoft") && ATTENTION_CONTRIB_OPS.contains(n.opType()));
  }

  /**
   * Whether a tensor is the result of a LayerNorm: output 0 of a LayerNorm op (fused ones
   * included), or the end of the decomposed form, {@code Add(Mul(Div(x - mean, std), gamma), beta)}.
   * The decomposed form's {@code Mul} counts only when no bias {@code Add} follows it, so that one
   * LayerNorm is not counted twice.
   */
  static boolean isLayerNormEnd(String tensor, TensorIndex index) {
    Optional<Node> p = index.producer(tensor).map(index::node);
    if (p.isEmpty()) {
      return false;
    }
    Node n = p.get();
    if (LAYER_NORM_OPS.contains(n.opType())) {
      return n.outputs().get(0).equals(tensor);
    }
    if (n.opType().equals("Add")) {
      Node scale = producedBy(n, "Mul", index);
      return scale != null && producedBy(scale, "Div", index) != null;
    }
    if (n.opType().equals("Mul") && producedBy(n, "Div", index) != null) {
      List<Integer> readers = index.consumers(tensor);
      return !(readers.size() == 1 && isLayerNormEnd(index.node(readers.get(0)).outputs().get(0), index));
    }
    return false;
  }

  private static Node producedBy(Node consumer, String op, TensorIndex index) {
    for (String in : consumer.inputs()) {
      Optional<Node> p = index.producer(in).map(index::node);
      if (p.isPresent() && p.get().opType().equals(op)) {
        return p.get();
      }
    }
    return null;
  }
}
