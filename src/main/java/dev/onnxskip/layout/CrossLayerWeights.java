package dev.onnxskip.layout;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Weights that several blocks read, as in ALBERT, where one layer's weights serve every layer.
 * They belong to no single block, so no block's parameter count holds them; here they are counted
 * once. Skipping some of these layers removes none of them from the file.
 *
 * @param layers the blocks that read them, in order
 * @param parameterCount elements of those initializers, each counted once
 * @param parameterBytes bytes of those initializers
 */
public record CrossLayerWeights(List<Integer> layers, long parameterCount, long parameterBytes) {

  public CrossLayerWeights {
    layers = List.copyOf(layers);
  }

  /** {@code 0-11} for a run of consecutive layers, {@code 0, 2, 4} otherwise. */
  public String describeLayers() {
    int first = layers.get(0);
    int last = layers.get(layers.size() - 1);
    if (last - first + 1 == layers.size()) {
      return first + "-" + last;
    }
    return layers.stream().map(String::valueOf).collect(Collectors.joining(", "));
  }
}
