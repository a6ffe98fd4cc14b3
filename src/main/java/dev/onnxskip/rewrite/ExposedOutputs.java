package dev.onnxskip.rewrite;

import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.ClassifierHead;
import dev.onnxskip.layout.EncoderLayout;
import java.util.ArrayList;
import java.util.List;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;

/**
 * Makes inner tensors graph outputs beside the logits, so that one run yields them too: the features
 * a linear head reads (a fresh head can be trained on them), and residual-stream states (for the
 * layer metrics). The passes do not modify their input model.
 */
public final class ExposedOutputs {
  private ExposedOutputs() {}

  /**
   * The model with {@code head.features()} as its last graph output, float32 [batch, width], the
   * batch dimension named as the logits' is.
   */
  public static OnnxModel headFeatures(OnnxModel model, ClassifierHead.Linear head, String logitsOutput) {
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

  /** The model with each of {@code tensors}, residual-stream states, as a graph output after the others. */
  public static OnnxModel streamStates(OnnxModel model, EncoderLayout layout, List<String> tensors) {
    Graph g = model.copyGraph();
    List<ValueInfoProto> outputs = new ArrayList<>(g.outputs());
    for (String t : tensors) {
      if (!g.outputNames().contains(t) && outputs.stream().noneMatch(o -> o.getName().equals(t))) {
        outputs.add(SubModels.streamValueInfo(g, layout, t));
      }
    }
    g.setOutputs(outputs);
    return model.withGraph(g);
  }
}
