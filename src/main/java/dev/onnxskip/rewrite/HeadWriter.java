package dev.onnxskip.rewrite;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.OnnxModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Appends a pooling and a linear classifier to an encoder graph as ordinary ONNX nodes, so the
 * result is a plain classifier with a {@code logits} output that any runtime, and this tool's
 * rewrite and eval, handle like an exported fine-tuned model. Only standard ops whose form is the
 * same from opset 11 on are used, except ReduceSum, whose axes moved to an input at opset 13.
 */
public final class HeadWriter {
  public static final String LOGITS = "logits";
  private static final String SCOPE = "/onnx_skip_probe/";

  private HeadWriter() {}

  /**
   * @param encoderOutput the token-state output [batch, seq, hidden] the head reads
   * @param maskInput the attention-mask graph input, for mean pooling
   * @param weights [hidden][labels] row-major as {@code weights[h * labels + c]}
   * @param bias [labels]
   */
  public static OnnxModel append(OnnxModel encoder, String encoderOutput, String maskInput, Pooling pooling,
      float[] weights, float[] bias, List<String> labels) {
    int numLabels = labels.size();
    int hidden = weights.length / numLabels;
    Graph g = encoder.copyGraph();
    long opset = encoder.opset("").orElseThrow(() -> new OnnxSkipException(encoder.describe() + ": imports no default-domain opset"));
    String pooled;
    if (pooling == Pooling.CLS) {
      g.addInitializer(longs(SCOPE + "first_token", new long[] {}, 0));
      g.addNode(node("Gather", "cls/Gather", List.of(encoderOutput, SCOPE + "first_token"), SCOPE + "pooled", Map.of("axis", 1L)));
      pooled = SCOPE + "pooled";
    } else {
      // mean = (mask[b,1,s] @ states[b,s,h]) / max(sum(mask), eps): MatMul keeps it opset-neutral.
      g.addNode(node("Cast", "mean/Cast", List.of(maskInput), SCOPE + "mask_float", Map.of("to", (long) TensorProto.DataType.FLOAT_VALUE)));
      g.addInitializer(longs(SCOPE + "row_shape", new long[] {3}, 0, 1, -1));
      g.addNode(node("Reshape", "mean/Reshape", List.of(SCOPE + "mask_float", SCOPE + "row_shape"), SCOPE + "mask_row", Map.of()));
      g.addNode(node("MatMul", "mean/MatMul", List.of(SCOPE + "mask_row", encoderOutput), SCOPE + "masked_sum", Map.of()));
      if (opset >= 13) {
        g.addInitializer(longs(SCOPE + "token_axis", new long[] {1}, 2));
        g.addNode(node("ReduceSum", "mean/ReduceSum", List.of(SCOPE + "mask_row", SCOPE + "token_axis"), SCOPE + "token_count", Map.of("keepdims", 1L)));
      } else {
        g.addNode(nodeWithInts("ReduceSum", "mean/ReduceSum", List.of(SCOPE + "mask_row"), SCOPE + "token_count", "axes", new long[] {2}, Map.of("keepdims", 1L)));
      }
      g.addInitializer(floats(SCOPE + "eps", new long[] {}, new float[] {1e-9f}));
      g.addNode(node("Max", "mean/Max", List.of(SCOPE + "token_count", SCOPE + "eps"), SCOPE + "token_count_safe", Map.of()));
      g.addNode(node("Div", "mean/Div", List.of(SCOPE + "masked_sum", SCOPE + "token_count_safe"), SCOPE + "mean3", Map.of()));
      g.addNode(node("Flatten", "mean/Flatten", List.of(SCOPE + "mean3"), SCOPE + "pooled", Map.of("axis", 1L)));
      pooled = SCOPE + "pooled";
    }
    g.addInitializer(floats(SCOPE + "classifier.weight", new long[] {hidden, numLabels}, weights));
    g.addInitializer(floats(SCOPE + "classifier.bias", new long[] {numLabels}, bias));
    g.addNode(node("MatMul", "classifier/MatMul", List.of(pooled, SCOPE + "classifier.weight"), SCOPE + "scores", Map.of()));
    g.addNode(node("Add", "classifier/Add", List.of(SCOPE + "scores", SCOPE + "classifier.bias"), LOGITS, Map.of()));
    TensorShapeProto.Dimension batch = g.runtimeInputs().get(0).getType().getTensorType().getShape().getDim(0);
    g.setOutputs(List.of(ValueInfoProto.newBuilder().setName(LOGITS).setType(TypeProto.newBuilder().setTensorType(
        TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(TensorShapeProto.newBuilder()
            .addDim(batch).addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(numLabels))))).build()));
    g.cleanup();
    g.toposort();
    Map<String, String> id2label = new LinkedHashMap<>();
    for (int i = 0; i < numLabels; i++) {
      id2label.put(Integer.toString(i), labels.get(i));
    }
    try {
      // In a fixed order: the file's bytes, and so its digest in results.json, must not vary by run.
      Map<String, String> metadata = new LinkedHashMap<>();
      metadata.put("id2label", new ObjectMapper().writeValueAsString(id2label));
      metadata.put("onnx_skip.probe", pooling.name().toLowerCase(java.util.Locale.ROOT) + " pooling + linear head over " + encoderOutput);
      return encoder.withGraph(g).withMetadata(metadata);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a string map always serializes", e);
    }
  }

  private static Node node(String op, String name, List<String> inputs, String output, Map<String, Long> intAttrs) {
    NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).setName(SCOPE + name).addAllInput(inputs).addOutput(output);
    intAttrs.forEach((k, v) -> b.addAttribute(AttributeProto.newBuilder().setName(k).setType(AttributeProto.AttributeType.INT).setI(v)));
    return new Node(b.build());
  }

  private static Node nodeWithInts(String op, String name, List<String> inputs, String output, String listName, long[] list, Map<String, Long> intAttrs) {
    AttributeProto.Builder ints = AttributeProto.newBuilder().setName(listName).setType(AttributeProto.AttributeType.INTS);
    for (long v : list) {
      ints.addInts(v);
    }
    return new Node(node(op, name, inputs, output, intAttrs).proto().toBuilder().addAttribute(ints).build());
  }

  private static TensorProto floats(String name, long[] dims, float[] values) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      buf.putFloat(v);
    }
    return tensor(name, dims, TensorProto.DataType.FLOAT_VALUE, buf.array());
  }

  private static TensorProto longs(String name, long[] dims, long... values) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      buf.putLong(v);
    }
    return tensor(name, dims, TensorProto.DataType.INT64_VALUE, buf.array());
  }

  private static TensorProto tensor(String name, long[] dims, int type, byte[] raw) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type).setRawData(ByteString.copyFrom(raw));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }
}
