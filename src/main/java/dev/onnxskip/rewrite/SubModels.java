package dev.onnxskip.rewrite;

import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorIndex;
import dev.onnxskip.layout.EncoderLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a model between residual-stream tensors. A prefix runs from the graph inputs to a boundary;
 * a suffix runs from a boundary (fed as a new graph input) to the graph outputs, recomputing the
 * side inputs it needs, such as the attention mask, from the original inputs.
 */
public final class SubModels {
  private SubModels() {}

  /** The part of the model that computes {@code layout.boundary(k)}, the input of layer k. */
  public static OnnxModel prefix(OnnxModel model, EncoderLayout layout, int k) {
    return extract(model, layout, List.of(), List.of(layout.boundary(k)));
  }

  /**
   * The sub-model that reads {@code cutInputs} (plus whichever original graph inputs it still
   * needs) and computes {@code outputs}. Unused original inputs are dropped.
   */
  public static OnnxModel extract(OnnxModel model, EncoderLayout layout, List<String> cutInputs, List<String> outputs) {
    Graph g = model.copyGraph();
    TensorIndex index = new TensorIndex(g);
    for (String t : cutInputs) {
      if (!index.isDefined(t)) {
        throw new OnnxSkipException("cannot cut at tensor '" + t + "': it does not exist in the graph");
      }
    }
    for (String t : cutInputs) {
      // The producer loses only this output: its others (EmbedLayerNormalization's mask index)
      // may still be needed after the cut. Pruning drops it when they are not.
      g.renameOutput(t, t + "/onnx_skip_cut");
      g.addInput(streamValueInfo(g, layout, t));
    }
    List<ValueInfoProto> outs = new ArrayList<>();
    for (String t : outputs) {
      outs.add(g.outputNames().contains(t) ? g.outputs().get(g.outputNames().indexOf(t)) : streamValueInfo(g, layout, t));
    }
    g.setOutputs(outs);
    g.cleanup();
    g.dropUnusedInputs();
    g.checkDefined();
    g.toposort();
    return model.withGraph(g);
  }

  /**
   * A residual-stream tensor's type: its declared value info when the graph has one, otherwise
   * [batch, sequence, hidden] of the stream's element type, with the batch and sequence dimension
   * names of the first graph input.
   */
  static ValueInfoProto streamValueInfo(Graph g, EncoderLayout layout, String tensor) {
    ValueInfoProto declared = g.valueInfo().get(tensor);
    if (declared != null && declared.getType().hasTensorType()) {
      return declared;
    }
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    List<TensorShapeProto.Dimension> inputDims = g.runtimeInputs().isEmpty()
        ? List.of()
        : g.runtimeInputs().get(0).getType().getTensorType().getShape().getDimList();
    for (int d = 0; d < 2; d++) {
      shape.addDim(d < inputDims.size() ? inputDims.get(d) : TensorShapeProto.Dimension.newBuilder().setDimParam(d == 0 ? "batch" : "sequence").build());
    }
    TensorShapeProto.Dimension.Builder hidden = TensorShapeProto.Dimension.newBuilder();
    if (layout.hiddenSize() > 0) {
      hidden.setDimValue(layout.hiddenSize());
    } else {
      hidden.setDimParam("hidden");
    }
    shape.addDim(hidden);
    return ValueInfoProto.newBuilder()
        .setName(tensor)
        .setType(TypeProto.newBuilder().setTensorType(
            TypeProto.Tensor.newBuilder().setElemType(layout.streamElemType().code()).setShape(shape)))
        .build();
  }
}
