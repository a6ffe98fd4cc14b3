package dev.onnxskip.rewrite;

import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import java.util.List;

/** Suffix sub-models, the second half of a split that tests recompose a model or a variant from. */
final class Suffixes {
  private Suffixes() {}

  /** The part of the model after {@code layout.boundary(k)}, which it reads as a graph input. */
  static OnnxModel after(OnnxModel model, EncoderLayout layout, int k) {
    return SubModels.extract(model, layout, List.of(layout.boundary(k)), model.copyGraph().outputNames());
  }
}
