package dev.onnxskip.layout;

import dev.onnxskip.graph.Node;
import java.util.List;

/**
 * One encoder block (a transformer layer) between two residual-stream tensors.
 *
 * @param index 0-based layer number, as in the export's own names
 * @param input the residual-stream tensor the block reads
 * @param output the residual-stream tensor the block writes; the next block's input
 * @param nodes the nodes only this block uses, in topological order
 * @param parameterCount elements of the initializers only this block uses (the weights that skipping
 *     it removes from the file)
 * @param parameterBytes bytes of those initializers
 * @param sideInputs tensors the block reads from outside itself other than its input and weights,
 *     such as the attention mask
 */
public record Block(
    int index,
    String input,
    String output,
    List<Node> nodes,
    long parameterCount,
    long parameterBytes,
    List<String> sideInputs) {

  public Block {
    nodes = List.copyOf(nodes);
    sideInputs = List.copyOf(sideInputs);
  }

  public int nodeCount() {
    return nodes.size();
  }
}
