package dev.onnxskip.layout;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.UsageException;
import dev.onnxskip.graph.ElementType;
import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorIndex;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Finds the encoder blocks of a graph. Structure is the evidence: the residual stream is the
 * dominator chain from the token embeddings to the outputs, and each block is the stretch of it
 * that holds one attention. Blocks must also look alike (as many LayerNorms on the stream each),
 * and no block-sized stretch may be left over before the first or after the last, which catches a
 * block whose attention was not recognised. Node-name scopes ({@code /encoder/layer.N/}) are only a
 * hint, used when structure alone is inconclusive, and then only if structure corroborates them.
 */
public final class LayoutDetector {

  /**
   * Rows of the model's position-embedding table, for commands that need no layers (probe): empty
   * when the graph has no token-embedding lookup or no position table that can be told.
   */
  public static OptionalLong maxPositions(OnnxModel model) {
    return embeddings(model).map(Embeddings::maxPositions).orElse(OptionalLong.empty());
  }

  /**
   * What the token embeddings say about a model, for models whose blocks are not looked for (a
   * variant with every layer skipped).
   *
   * @param vocabularySize rows of the token-embedding table
   * @param width its width, which is the stream's where nothing projects it
   * @param maxPositions rows of the position table, when one can be told
   */
  public record Embeddings(long vocabularySize, long width, OptionalLong maxPositions) {}

  /** The token embeddings of a model; empty when it has no token-embedding lookup. */
  public static Optional<Embeddings> embeddings(OnnxModel model) {
    Graph graph = model.copyGraph();
    TensorIndex index = new TensorIndex(graph);
    try {
      ResidualStream.TokenEmbedding tokens = ResidualStream.tokenEmbedding(graph, index);
      long rows = ResidualStream.positionRows(graph, index, tokens);
      return Optional.of(new Embeddings(tokens.rows(), tokens.width(), rows > 0 ? OptionalLong.of(rows) : OptionalLong.empty()));
    } catch (OnnxSkipException e) {
      return Optional.empty();
    }
  }

  /**
   * Rows of the model's token-embedding table, for commands that need no layers (probe): empty when
   * the graph has no token-embedding lookup that can be told.
   */
  public static OptionalLong vocabularySize(OnnxModel model) {
    Graph graph = model.copyGraph();
    try {
      long rows = ResidualStream.tokenEmbedding(graph, new TensorIndex(graph)).rows();
      return rows > 0 ? OptionalLong.of(rows) : OptionalLong.empty();
    } catch (OnnxSkipException e) {
      return OptionalLong.empty();
    }
  }

  /** Ops that only requantize the stream; a boundary followed by them moves past them. */
  private static final Set<String> QUANTIZATION_OPS = Set.of("QuantizeLinear", "DequantizeLinear");

  private LayoutDetector() {}

  public static EncoderLayout detect(OnnxModel model) {
    return detect(model, List.of());
  }

  /**
   * @param manualBoundaries when not empty, the residual-stream tensors named by the user (layer
   *     0's input, ..., the last layer's output); they are checked, not trusted
   * @throws OnnxSkipException when no encoder is found or the evidence is ambiguous, naming the
   *     model and saying what was found
   * @throws UsageException when the manual boundaries do not name residual-stream tensors in
   *     order, naming the model and the tensor
   */
  public static EncoderLayout detect(OnnxModel model, List<String> manualBoundaries) {
    try {
      return detect(model.copyGraph(), manualBoundaries);
    } catch (UsageException e) {
      // Boundaries that do not fit the model are a wrong argument, not a broken model.
      throw new UsageException(model.describe() + ": " + e.getMessage());
    } catch (OnnxSkipException e) {
      throw new OnnxSkipException(model.describe() + ": " + e.getMessage(), e);
    }
  }

  private static EncoderLayout detect(Graph graph, List<String> manualBoundaries) {
    graph.checkDefined();
    graph.toposort();
    TensorIndex index = new TensorIndex(graph);
    ResidualStream stream = ResidualStream.of(graph, index);
    StreamFacts facts = new StreamFacts(index, stream);
    Optional<NameScopes.Result> names = NameScopes.boundaries(index, stream);

    List<String> boundaries;
    String strategy;
    String evidence;
    BlockContents.Contents contents;
    if (!manualBoundaries.isEmpty()) {
      boundaries = checkManual(manualBoundaries, index, stream);
      strategy = "manual";
      evidence = "boundaries given by the user; all lie on the residual stream in order";
      contents = BlockContents.of(graph, index, boundaries);
    } else {
      Structural structural = structural(facts);
      Optional<String> namesRejected = names.flatMap(n -> uncorroborated(n, facts));
      if (structural.boundaries() != null) {
        boundaries = structural.boundaries();
        strategy = "structure";
        contents = BlockContents.of(graph, index, boundaries);
        evidence = structural.evidence() + layerNormsEach(contents.blocks(), index)
            + names.map(n -> n.boundaries().equals(structural.boundaries())
                ? "; agrees with " + n.pattern() + " name scopes"
                : "; " + n.pattern() + " name scopes disagree (" + (n.boundaries().size() - 1) + " layers) and were ignored").orElse("");
      } else if (names.isPresent() && namesRejected.isEmpty()) {
        boundaries = names.get().boundaries();
        strategy = "name-scopes";
        evidence = "structure alone is inconclusive (" + structural.evidence() + "); " + names.get().pattern()
            + " name scopes give " + (boundaries.size() - 1) + " layers whose boundaries lie on the residual stream, "
            + describeAlike(boundaries, facts);
        contents = BlockContents.of(graph, index, boundaries);
      } else {
        throw new OnnxSkipException("cannot find the encoder blocks: " + structural.evidence()
            + namesRejected.map(r -> "; " + r).orElse("")
            + "; name the boundaries of the residual stream with --boundaries T0,T1,...");
      }
    }
    List<Block> blocks = contents.blocks();
    List<String> shared = new ArrayList<>(blocks.get(0).sideInputs());
    blocks.forEach(b -> shared.retainAll(b.sideInputs()));
    ResidualStream.TokenEmbedding emb = stream.embedding;
    ElementType elemType = emb.elemType().isFloatingPoint() ? emb.elemType() : ElementType.FLOAT;
    long width = StreamWidth.of(boundaries, graph, index, emb.width());
    return new EncoderLayout(boundaries, blocks, shared, strategy, evidence, elemType, width, emb.width(), emb.rows(),
        ResidualStream.positionRows(graph, index, emb), contents.sharedWeights());
  }

  /**
   * How many LayerNorms each block holds, in either form, wherever they sit in it: on the stream
   * (post-LN) or on the branches (pre-LN). Left out when none is recognised, which is no evidence
   * (an unknown norm op, a block without norms).
   */
  private static String layerNormsEach(List<Block> blocks, TensorIndex index) {
    List<Integer> counts = blocks.stream().map(b -> StreamFacts.layerNormsIn(b.nodes(), index)).toList();
    if (counts.stream().allMatch(c -> c == 0)) {
      return "";
    }
    return counts.stream().distinct().count() == 1
        ? ", " + counts.get(0) + " LayerNorms each"
        : ", " + join(counts) + " LayerNorms";
  }

  /** Boundaries from structure, or null boundaries with what was found in {@code evidence}. */
  private record Structural(List<String> boundaries, String evidence) {}

  private static Structural structural(StreamFacts facts) {
    List<String> chain = facts.stream.chain;
    int attentionOps = facts.attentionAnchors.size();
    if (attentionOps == 0) {
      return new Structural(null, "found no attention (Softmax or com.microsoft Attention) on the residual stream ("
          + chain.size() + " tensors from the embeddings '" + facts.stream.source + "' to the outputs, "
          + facts.layerNorms(-1, chain.size() - 1) + " LayerNorms)");
    }
    TreeMap<Integer, Integer> perAnchor = new TreeMap<>();
    facts.attentionAnchors.forEach(a -> perAnchor.merge(a, 1, Integer::sum));
    List<Integer> anchors = new ArrayList<>(perAnchor.keySet());
    String found = "found " + anchors.size() + " candidate boundaries, " + attentionOps + " attention blocks";
    if (perAnchor.values().stream().distinct().count() > 1) {
      return new Structural(null, found + ", unevenly spread (" + join(perAnchor.values()) + " per boundary)");
    }
    Optional<String> unlike = unlikeBlocks(anchors, facts);
    if (unlike.isPresent()) {
      return new Structural(null, found + ", but " + unlike.get());
    }
    int layerNormsPerBlock = anchors.size() >= 2 ? facts.layerNorms(anchors.get(0), anchors.get(1)) : 2;
    Optional<Integer> end = lastBlockOutput(anchors, layerNormsPerBlock, facts);
    if (end.isEmpty()) {
      return new Structural(null, found + ", but no end of the last block on the residual stream");
    }
    Optional<String> leftOut = blockLeftOutside(anchors, end.get(), facts);
    if (leftOut.isPresent()) {
      return new Structural(null, found + ", but " + leftOut.get() + ": a block whose attention is not recognised?");
    }
    List<String> boundaries = new ArrayList<>();
    anchors.forEach(a -> boundaries.add(chain.get(a)));
    boundaries.add(chain.get(end.get()));
    int perBoundary = perAnchor.firstEntry().getValue();
    String ops = perBoundary == 1 ? "" : ", " + perBoundary + " attention ops each";
    return new Structural(boundaries, anchors.size() + " attention blocks on the residual stream" + ops);
  }

  /**
   * Why the stretches between consecutive anchors are not one block each, if they are not: they
   * differ in LayerNorms on the stream; one repeats another's ops, as two blocks taken for one do
   * when the second block's attention is not recognised; or one is the same ops several times
   * over, as when every other block's attention is not recognised.
   */
  private static Optional<String> unlikeBlocks(List<Integer> anchors, StreamFacts facts) {
    List<Integer> layerNorms = new ArrayList<>();
    List<List<String>> stretches = new ArrayList<>();
    for (int k = 0; k + 1 < anchors.size(); k++) {
      layerNorms.add(facts.layerNorms(anchors.get(k), anchors.get(k + 1)));
      stretches.add(facts.producerOps(anchors.get(k) + 1, anchors.get(k + 1) + 1));
    }
    if (layerNorms.stream().distinct().count() > 1) {
      return Optional.of("the blocks between them are unlike (" + join(layerNorms) + " LayerNorms on the residual stream)");
    }
    List<String> shortest = stretches.stream().min(Comparator.comparingInt(List::size)).orElse(List.of());
    if (stretches.stream().anyMatch(ops -> StreamFacts.isRepetition(ops, shortest))) {
      return Optional.of("the blocks between them are unlike (" + join(stretches.stream().map(List::size).toList())
          + " tensors on the residual stream, some repeating the ops of another)");
    }
    for (int k = 0; k + 1 < anchors.size(); k++) {
      int repeats = facts.repeats(anchors.get(k), anchors.get(k + 1));
      if (repeats > 1) {
        return Optional.of("block " + k + " is the same ops " + repeats + " times over: blocks whose attention is not recognised?");
      }
    }
    return Optional.empty();
  }

  /**
   * Where a block-sized stretch lies before the first block or after the last, if one does: as
   * many LayerNorms as a block holds (when a block holds two or more, so that the embeddings' one
   * LayerNorm is no block), or, where none show (pre-LN blocks, norms not recognised), a repeat of
   * the neighbouring block's ops.
   */
  private static Optional<String> blockLeftOutside(List<Integer> anchors, int end, StreamFacts facts) {
    int first = anchors.get(0);
    int last = anchors.get(anchors.size() - 1);
    int perBlock = facts.layerNorms(last, end);
    int before = facts.layerNorms(-1, first);
    int after = facts.layerNorms(end, facts.length() - 1);
    if (perBlock >= 2 && before >= perBlock) {
      return Optional.of(before + " LayerNorms precede the first block on the residual stream, as many as a block holds (" + perBlock + ")");
    }
    if (perBlock >= 2 && after >= perBlock) {
      return Optional.of(after + " LayerNorms follow the last block on the residual stream, as many as a block holds (" + perBlock + ")");
    }
    if (anchors.size() < 2) {
      return Optional.empty();
    }
    int firstLength = anchors.get(1) - first;
    if (first - firstLength >= 0
        && facts.producerOps(first - firstLength + 1, first + 1).equals(facts.producerOps(first + 1, first + firstLength + 1))) {
      return Optional.of("the residual stream before the first block repeats the ops of a block");
    }
    int lastLength = end - last;
    if (end + lastLength < facts.length()
        && facts.producerOps(end + 1, end + lastLength + 1).equals(facts.producerOps(last + 1, end + 1))) {
      return Optional.of("the residual stream after the last block repeats the ops of a block");
    }
    return Optional.empty();
  }

  /**
   * The chain position of the last block's output. Blocks repeat, so it lies as far along the
   * stream after the last block's input as the previous block's length, when the producers' op
   * types repeat too. Otherwise, and for a single block, it is where the last block has passed as
   * many LayerNorms as a block has (two in a post-LN BERT layer), moved past a requantization
   * (QuantizeLinear, DequantizeLinear) that the next reader would see, as between other blocks.
   */
  private static Optional<Integer> lastBlockOutput(List<Integer> anchors, int layerNormsPerBlock, StreamFacts facts) {
    int last = anchors.get(anchors.size() - 1);
    if (anchors.size() >= 2) {
      int prev = anchors.get(anchors.size() - 2);
      int period = last - prev;
      if (last + period < facts.length()
          && facts.producerOps(prev + 1, last + 1).equals(facts.producerOps(last + 1, last + period + 1))) {
        return Optional.of(last + period);
      }
    }
    int seen = 0;
    for (int i = last + 1; i < facts.length() && layerNormsPerBlock > 0; i++) {
      if (facts.isLayerNormEnd(i) && ++seen == layerNormsPerBlock) {
        return Optional.of(pastRequantization(i, facts));
      }
    }
    return Optional.empty();
  }

  private static int pastRequantization(int position, StreamFacts facts) {
    List<String> chain = facts.stream.chain;
    int i = position;
    while (i + 1 < chain.size()) {
      Optional<Node> next = facts.producer(i + 1);
      if (next.isEmpty() || !QUANTIZATION_OPS.contains(next.get().opType()) || !next.get().inputs().get(0).equals(chain.get(i))) {
        break;
      }
      i++;
    }
    return i;
  }

  /**
   * Why structure does not back name-derived boundaries, or empty if it does: every named layer
   * must hold as many attention ops as the others (none, when attention is not recognised at all)
   * and as many LayerNorms on the residual stream, at least one; no attention may lie outside; and
   * no named layer may be the same ops several times over, as several layers under one name are.
   */
  private static Optional<String> uncorroborated(NameScopes.Result names, StreamFacts facts) {
    List<Integer> at = names.boundaries().stream().map(facts.stream::indexOf).toList();
    List<Integer> attention = new ArrayList<>();
    List<Integer> layerNorms = new ArrayList<>();
    for (int k = 0; k + 1 < at.size(); k++) {
      attention.add(facts.attention(at.get(k), at.get(k + 1)));
      layerNorms.add(facts.layerNorms(at.get(k), at.get(k + 1)));
    }
    String give = names.pattern() + " name scopes give " + attention.size() + " layers, but structure does not back them (";
    int outside = facts.attentionAnchors.size() - attention.stream().mapToInt(Integer::intValue).sum();
    boolean alike = attention.stream().distinct().count() == 1 && layerNorms.stream().distinct().count() == 1;
    if (!alike || outside > 0 || layerNorms.get(0) == 0) {
      return Optional.of(give + join(attention) + " attention blocks, " + join(layerNorms) + " LayerNorms on the residual stream"
          + (outside > 0 ? ", " + outside + " attention blocks outside them" : "") + ")");
    }
    for (int k = 0; k + 1 < at.size(); k++) {
      int repeats = facts.repeats(at.get(k), at.get(k + 1));
      if (repeats > 1) {
        return Optional.of(give + "layer " + k + " is the same ops " + repeats + " times over)");
      }
    }
    return Optional.empty();
  }

  private static String describeAlike(List<String> boundaries, StreamFacts facts) {
    int from = facts.stream.indexOf(boundaries.get(0));
    int to = facts.stream.indexOf(boundaries.get(1));
    return facts.layerNorms(from, to) + " LayerNorms each";
  }

  private static String join(Collection<Integer> counts) {
    return counts.stream().map(String::valueOf).collect(Collectors.joining(", "));
  }

  private static List<String> checkManual(List<String> names, TensorIndex index, ResidualStream stream) {
    if (names.size() < 2) {
      throw new UsageException("--boundaries needs at least two tensors (layer 0's input and the last layer's output), got " + names.size());
    }
    int prev = -1;
    for (String t : names) {
      if (!index.isDefined(t)) {
        throw new UsageException("--boundaries: tensor '" + t + "' does not exist in the graph");
      }
      int i = stream.indexOf(t);
      if (i < 0) {
        throw new UsageException("--boundaries: tensor '" + t + "' is not on the residual stream (some path from the embeddings to the outputs bypasses it)");
      }
      if (i <= prev) {
        throw new UsageException("--boundaries: tensor '" + t + "' comes before the boundary named ahead of it; list them in data-flow order");
      }
      prev = i;
    }
    return List.copyOf(names);
  }
}
