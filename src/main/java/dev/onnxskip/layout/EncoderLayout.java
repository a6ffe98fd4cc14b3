package dev.onnxskip.layout;

import dev.onnxskip.graph.ElementType;
import java.util.List;

/**
 * Where the encoder blocks of a graph are.
 *
 * @param boundaries residual-stream tensors: element k is the input of layer k, the last element is
 *     the output of the last layer; {@code layers() + 1} of them
 * @param blocks one per layer
 * @param sharedSideInputs tensors every block reads besides the stream and its own weights, such as
 *     the extended attention mask
 * @param strategy the detection strategy that succeeded: {@code structure}, {@code name-scopes} or
 *     {@code manual}
 * @param evidence what supports the result, in words, e.g. "6 attention blocks on the residual
 *     stream, 2 LayerNorms each; agrees with /encoder/layer.N name scopes"
 * @param streamElemType element type of the residual stream
 * @param hiddenSize width of the residual stream at the block boundaries, read from the weights
 *     that write it; the embedding width when they do not tell
 * @param embeddingWidth width of the token-embedding table; narrower than the stream where the
 *     embeddings are projected up to it (ALBERT)
 * @param embeddingRows rows of the token-embedding table: token ids must stay below it
 * @param positionRows how many positions the position-embedding table serves, or -1 when the graph
 *     has none that can be told: no text may be longer
 * @param sharedWeights weights that several blocks read, which no block's parameter count holds
 */
public record EncoderLayout(
    List<String> boundaries,
    List<Block> blocks,
    List<String> sharedSideInputs,
    String strategy,
    String evidence,
    ElementType streamElemType,
    long hiddenSize,
    long embeddingWidth,
    long embeddingRows,
    long positionRows,
    List<CrossLayerWeights> sharedWeights) {

  public EncoderLayout {
    boundaries = List.copyOf(boundaries);
    blocks = List.copyOf(blocks);
    sharedSideInputs = List.copyOf(sharedSideInputs);
    sharedWeights = List.copyOf(sharedWeights);
  }

  public int layers() {
    return blocks.size();
  }

  /** How many token ids the model accepts, when its embedding table says. */
  public java.util.OptionalLong vocabularySize() {
    return embeddingRows > 0 ? java.util.OptionalLong.of(embeddingRows) : java.util.OptionalLong.empty();
  }

  /** How many tokens a text may have, when the model's position table says. */
  public java.util.OptionalLong maxPositions() {
    return positionRows > 0 ? java.util.OptionalLong.of(positionRows) : java.util.OptionalLong.empty();
  }

  /** The residual-stream tensor read by layer {@code k}; {@code k == layers()} gives the encoder output. */
  public String boundary(int k) {
    return boundaries.get(k);
  }
}
