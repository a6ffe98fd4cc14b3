package dev.onnxskip.rewrite;

import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.ClassifierHead;
import java.util.ArrayList;
import java.util.List;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;

/**
 * Makes the features a linear head reads a graph output beside the logits, so that one run yields
 * both and the head can be retrained on them. The pass does not modify its input model.
 */
public final class HeadFeatures {
  private HeadFeatures() {}

  /**
   * The model with {@code head.features()} as its last graph output, float32 [batch, width], the
   * batch dimension named as the logits' is.
   */
  public static OnnxModel expose(OnnxModel model, ClassifierHead.Linear head, String logitsOutput) {
    Graph g = model.copyGraph();
    if (g.outputNames().contains(head.features())) {
      return model;
    }
    ValueInfoProto logits = g.outputs().get(g.outputNames().indexOf(logitsOutput));
    TensorShapeProto.Dimension batch = logits.getType().getTensorType().getShape().getDimCount() > 0
        ? logits.getType().getTensorType().getShape().getDim(0)
        : TensorShapeProto.Dimension.newBuilder().setDimParam("batch").build();
    List<ValueInfoProto> outputs = new ArrayList<>(g.outputs());
    outputs.add(ValueInfoProto.newBuilder().setName(head.features()).setType(TypeProto.newBuilder().setTensorType(
        TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(TensorShapeProto.newBuilder()
            .addDim(batch).addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(head.width()))))).build());
    g.setOutputs(outputs);
    return model.withGraph(g);
  }
}
