package dev.onnxskip.layout;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorIndex;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds the encoder blocks of a graph. Structure is the evidence: the residual stream is the
 * dominator chain from the token embeddings to the outputs, and each block is the stretch of it
 * that holds one attention. Node-name scopes ({@code /encoder/layer.N/}) are only a hint, used when
 * the attention ops cannot be recognised, and then still checked against the residual stream.
 */
public final class LayoutDetector {

  private static final Set<String> ATTENTION_CONTRIB_OPS =
      Set.of("Attention", "MultiHeadAttention", "PackedAttention", "PackedMultiHeadAttention", "GroupQueryAttention");

  private static final Set<String> LAYER_NORM_OPS =
      Set.of("LayerNormalization", "SkipLayerNormalization", "SimplifiedLayerNormalization", "SkipSimplifiedLayerNormalization");

  private LayoutDetector() {}

  public static EncoderLayout detect(OnnxModel model) {
    return detect(model, List.of());
  }

  /**
   * @param manualBoundaries when not empty, the residual-stream tensors named by the user (layer
   *     0's input, ..., the last layer's output); they are checked, not trusted
   * @throws OnnxSkipException when no encoder is found or the evidence is ambiguous, saying what
   *     was found
   */
  public static EncoderLayout detect(OnnxModel model, List<String> manualBoundaries) {
    Graph graph = model.graph();
    graph.checkDefined();
    graph.toposort();
    TensorIndex index = new TensorIndex(graph);
    ResidualStream stream = ResidualStream.of(graph, index);
    Optional<NameScopes.Result> names = NameScopes.boundaries(index, stream);

    List<String> boundaries;
    String strategy;
    String evidence;
    if (!manualBoundaries.isEmpty()) {
      boundaries = checkManual(manualBoundaries, index, stream);
      strategy = "manual";
      evidence = "boundaries given by the user; all lie on the residual stream in order";
    } else {
      Structural structural = structural(index, stream);
      if (structural.boundaries() != null) {
        boundaries = structural.boundaries();
        strategy = "structure";
        evidence = structural.evidence() + names.map(n -> n.boundaries().equals(structural.boundaries())
                ? "; agrees with " + n.pattern() + " name scopes"
                : "; " + n.pattern() + " name scopes disagree (" + (n.boundaries().size() - 1) + " layers) and were ignored").orElse("");
      } else if (names.isPresent()) {
        boundaries = names.get().boundaries();
        strategy = "name-scopes";
        evidence = "attention ops not recognised (" + structural.evidence() + "); " + names.get().pattern()
            + " name scopes give " + (boundaries.size() - 1) + " layers whose boundaries lie on the residual stream";
      } else {
        throw new OnnxSkipException("cannot find the encoder blocks: " + structural.evidence()
            + "; name boundaries of the residual stream with --boundaries T0,T1,...");
      }
    }
    List<Block> blocks = BlockContents.blocks(graph, index, boundaries);
    List<String> shared = new ArrayList<>(blocks.get(0).sideInputs());
    blocks.forEach(b -> shared.retainAll(b.sideInputs()));
    ResidualStream.TokenEmbedding emb = stream.embedding;
    int elemType = isFloat(emb.elemType()) ? emb.elemType() : DataType.FLOAT_VALUE;
    return new EncoderLayout(boundaries, blocks, shared, strategy, evidence, elemType, emb.width(), emb.rows());
  }

  private static boolean isFloat(int t) {
    return t == DataType.FLOAT_VALUE || t == DataType.FLOAT16_VALUE || t == DataType.BFLOAT16_VALUE || t == DataType.DOUBLE_VALUE;
  }

  static boolean isAttention(Node n) {
    boolean softmax = n.opType().equals("Softmax") && (n.domain().isEmpty() || n.domain().equals("ai.onnx"));
    return softmax || (n.domain().equals("com.microsoft") && ATTENTION_CONTRIB_OPS.contains(n.opType()));
  }

  /** Boundaries from structure, or null boundaries with the reason in {@code evidence}. */
  private record Structural(List<String> boundaries, String evidence) {}

  private static Structural structural(TensorIndex index, ResidualStream stream) {
    Map<String, Integer> attentionPerAnchor = new LinkedHashMap<>();
    int attentionOps = 0;
    for (Node n : index.nodes()) {
      if (!isAttention(n)) {
        continue;
      }
      Optional<String> anchor = stream.anchorOf(n.outputs().get(0));
      if (anchor.isPresent()) {
        attentionOps++;
        attentionPerAnchor.merge(anchor.get(), 1, Integer::sum);
      }
    }
    if (attentionOps == 0) {
      return new Structural(null, "found no attention (Softmax or com.microsoft Attention) on the path from the embeddings to the outputs");
    }
    List<String> inputs = new ArrayList<>(attentionPerAnchor.keySet());
    inputs.sort((a, b) -> Integer.compare(stream.indexOf(a), stream.indexOf(b)));
    List<Integer> perBlock = inputs.stream().map(attentionPerAnchor::get).toList();
    if (perBlock.stream().distinct().count() > 1) {
      return new Structural(null, "found " + inputs.size() + " candidate boundaries, " + attentionOps
          + " attention blocks, unevenly spread " + perBlock);
    }
    Optional<String> end = lastBlockOutput(inputs, index, stream);
    if (end.isEmpty()) {
      return new Structural(null, "found " + inputs.size() + " candidate boundaries, " + attentionOps
          + " attention blocks, but no end of the last block on the residual stream");
    }
    List<String> boundaries = new ArrayList<>(inputs);
    boundaries.add(end.get());
    String what = perBlock.get(0) == 1 ? "" : " (" + perBlock.get(0) + " attention ops each)";
    return new Structural(boundaries, inputs.size() + " attention blocks on the residual stream" + what);
  }

  /**
   * The output of the last block. Blocks repeat, so it lies as far along the stream after the last
   * block's input as the previous block's length, when the producers' op types repeat too.
   * Otherwise, and for a single block, it is where the last block has passed as many LayerNorms as
   * a block has (two in a post-LN BERT layer).
   */
  private static Optional<String> lastBlockOutput(List<String> inputs, TensorIndex index, ResidualStream stream) {
    List<String> chain = stream.chain;
    int last = stream.indexOf(inputs.get(inputs.size() - 1));
    int layerNormsPerBlock = 2;
    if (inputs.size() >= 2) {
      int prev = stream.indexOf(inputs.get(inputs.size() - 2));
      int period = last - prev;
      if (last + period < chain.size()
          && producerOps(chain.subList(prev + 1, last + 1), index).equals(producerOps(chain.subList(last + 1, last + period + 1), index))) {
        return Optional.of(chain.get(last + period));
      }
      layerNormsPerBlock = (int) chain.subList(prev + 1, last + 1).stream().filter(t -> isLayerNormEnd(t, index)).count();
    }
    int seen = 0;
    for (int i = last + 1; i < chain.size() && layerNormsPerBlock > 0; i++) {
      if (isLayerNormEnd(chain.get(i), index) && ++seen == layerNormsPerBlock) {
        return Optional.of(chain.get(i));
      }
    }
    return Optional.empty();
  }

  private static List<String> producerOps(List<String> tensors, TensorIndex index) {
    return tensors.stream().map(t -> index.producer(t).map(p -> index.node(p).opType()).orElse("")).toList();
  }

  /** Whether a tensor is the result of a LayerNorm, fused or decomposed (Add of Mul of Div). */
  static boolean isLayerNormEnd(String tensor, TensorIndex index) {
    Optional<Node> p = index.producer(tensor).map(index::node);
    if (p.isEmpty()) {
      return false;
    }
    if (LAYER_NORM_OPS.contains(p.get().opType())) {
      return p.get().outputs().get(0).equals(tensor);
    }
    Node n = p.get();
    if (n.opType().equals("Add")) {
      n = producedBy(n, "Mul", index);
    }
    if (n == null || !n.opType().equals("Mul")) {
      return false;
    }
    return producedBy(n, "Div", index) != null;
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

  private static List<String> checkManual(List<String> names, TensorIndex index, ResidualStream stream) {
    if (names.size() < 2) {
      throw new OnnxSkipException("--boundaries needs at least two tensors (layer 0's input and the last layer's output), got " + names.size());
    }
    int prev = -1;
    for (String t : names) {
      if (!index.isDefined(t)) {
        throw new OnnxSkipException("--boundaries: tensor '" + t + "' does not exist in the graph");
      }
      int i = stream.indexOf(t);
      if (i < 0) {
        throw new OnnxSkipException("--boundaries: tensor '" + t + "' is not on the residual stream (some path from the embeddings to the outputs bypasses it)");
      }
      if (i <= prev) {
        throw new OnnxSkipException("--boundaries: tensor '" + t + "' comes before the boundary named ahead of it; list them in data-flow order");
      }
      prev = i;
    }
    return List.copyOf(names);
  }
}
