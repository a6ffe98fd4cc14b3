package dev.onnxskip.testing;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import dev.onnxskip.graph.ExternalData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Emits ONNX nodes the way the PyTorch exporter names them: a node is {@code scope + "/" + OpType}, with
 * {@code _1}, {@code _2}, ... for the second and later node of the same type in the same scope, and its
 * outputs are {@code nodeName + "_output_" + i}. Scalars become {@code Constant} nodes inside the scope, as
 * the exporter writes them. The few operators whose signature changed between opset 11 and 17 (axes as an
 * attribute or as an input) are emitted in the form the model's opset requires.
 */
final class GraphBuilder {

  static final String MS_DOMAIN = "com.microsoft";

  private final int opset;
  private final GraphProto.Builder graph = GraphProto.newBuilder();
  private final Map<String, Integer> opCounts = new HashMap<>();
  private final Set<String> tensorNames = new HashSet<>();
  private final Set<String> nodeNames = new HashSet<>();
  private boolean usesMsDomain;
  /** Torch names transposed Linear weights {@code onnx::MatMul_<value id>}; the ids only need to grow. */
  private int nextMatMulWeightId = 1000;

  GraphBuilder(int opset) {
    this.opset = opset;
  }

  int opset() {
    return opset;
  }

  /** One node with a single output named by the torch convention. */
  String op(String scope, String opType, List<String> inputs, AttributeProto... attributes) {
    return op(scope, opType, inputs, null, attributes);
  }

  /** One node with a single output; {@code outputName} overrides the torch-style name when not null. */
  String op(String scope, String opType, List<String> inputs, String outputName, AttributeProto... attributes) {
    String name = nextNodeName(scope, opType);
    String output = outputName != null ? outputName : name + "_output_0";
    addNode(name, opType, "", inputs, List.of(output), attributes);
    return output;
  }

  /** A node with explicit name, domain and outputs, for graphs that do not follow the torch convention. */
  void addNode(String name, String opType, String domain, List<String> inputs, List<String> outputs,
      AttributeProto... attributes) {
    if (!nodeNames.add(name)) {
      throw new IllegalStateException("duplicate node name " + name);
    }
    for (String output : outputs) {
      if (!output.isEmpty()) {
        defineTensor(output);
      }
    }
    if (domain.equals(MS_DOMAIN)) {
      usesMsDomain = true;
    }
    graph.addNode(NodeProto.newBuilder().setName(name).setOpType(opType).setDomain(domain)
        .addAllInput(inputs).addAllOutput(outputs).addAllAttribute(Arrays.asList(attributes)));
  }

  /** {@code prefix_0}, {@code prefix_1}, ...: how ONNX Runtime's optimizer names the nodes it creates. */
  String nextIndexedName(String prefix) {
    return prefix + "_" + (opCounts.merge("#" + prefix, 1, Integer::sum) - 1);
  }

  private String nextNodeName(String scope, String opType) {
    String base = scope + "/" + opType;
    int n = opCounts.merge(base, 1, Integer::sum) - 1;
    return n == 0 ? base : base + "_" + n;
  }

  private void defineTensor(String name) {
    if (!tensorNames.add(name)) {
      throw new IllegalStateException("tensor " + name + " is defined twice");
    }
  }

  // ---- constants and initializers --------------------------------------------------------------

  String constant(String scope, TensorProto value) {
    return op(scope, "Constant", List.of(), tensorAttribute("value", value));
  }

  String scalar(String scope, float value) {
    return constant(scope, floatTensor("", new long[0], new float[] {value}));
  }

  String scalar(String scope, long value) {
    return constant(scope, longTensor("", new long[0], new long[] {value}));
  }

  String vector(String scope, long... values) {
    return constant(scope, longTensor("", new long[] {values.length}, values));
  }

  String initializer(String name, long[] dims, float[] values) {
    defineTensor(name);
    graph.addInitializer(floatTensor(name, dims, values));
    return name;
  }

  String initializer(String name, long[] dims, long[] values) {
    defineTensor(name);
    graph.addInitializer(longTensor(name, dims, values));
    return name;
  }

  /** An initializer whose bytes are declared to lie in an external-data file, which the caller writes. */
  String externalInitializer(String name, TensorProto.DataType type, long[] dims, ExternalData.Ref ref) {
    defineTensor(name);
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type.getNumber());
    for (long d : dims) {
      t.addDims(d);
    }
    graph.addInitializer(ExternalData.pointingTo(t.build(), ref));
    return name;
  }

  /** The weight of a torch Linear, which the exporter stores transposed under a value-id name. */
  String matMulWeight(long[] dims, float[] values) {
    return initializer("onnx::MatMul_" + nextMatMulWeightId++, dims, values);
  }

  static TensorProto floatTensor(String name, long[] dims, float[] values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      raw.putFloat(v);
    }
    return tensor(name, TensorProto.DataType.FLOAT, dims, raw);
  }

  static TensorProto longTensor(String name, long[] dims, long[] values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      raw.putLong(v);
    }
    return tensor(name, TensorProto.DataType.INT64, dims, raw);
  }

  private static TensorProto tensor(String name, TensorProto.DataType type, long[] dims, ByteBuffer raw) {
    raw.flip();
    TensorProto.Builder t = TensorProto.newBuilder().setDataType(type.getNumber())
        .setRawData(ByteString.copyFrom(raw));
    for (long d : dims) {
      t.addDims(d);
    }
    if (!name.isEmpty()) {
      t.setName(name);
    }
    return t.build();
  }

  // ---- operators whose form depends on the opset -----------------------------------------------

  String unsqueeze(String scope, String x, long... axes) {
    if (opset < 13) {
      return op(scope, "Unsqueeze", List.of(x), ints("axes", axes));
    }
    String axesInput = vector(scope, axes);
    return op(scope, "Unsqueeze", List.of(x, axesInput));
  }

  String reduceSum(String scope, String x, long axis, boolean keepDims) {
    if (opset < 13) {
      return op(scope, "ReduceSum", List.of(x), ints("axes", axis), integer("keepdims", keepDims ? 1 : 0));
    }
    String axesInput = vector(scope, axis);
    return op(scope, "ReduceSum", List.of(x, axesInput), integer("keepdims", keepDims ? 1 : 0));
  }

  /** ReduceMean takes its axes as an attribute up to opset 17, so one form serves both opsets. */
  String reduceMeanLastAxis(String scope, String x) {
    return op(scope, "ReduceMean", List.of(x), ints("axes", -1));
  }

  /** Softmax over the last axis of a rank-4 tensor: torch writes axis 3 at opset 11 and -1 from 13 on. */
  String softmaxLastAxis(String scope, String x) {
    return op(scope, "Softmax", List.of(x), integer("axis", opset < 13 ? 3 : -1));
  }

  // ---- attributes ------------------------------------------------------------------------------

  static AttributeProto integer(String name, long value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
  }

  static AttributeProto real(String name, float value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
  }

  static AttributeProto ints(String name, long... values) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long v : values) {
      a.addInts(v);
    }
    return a.build();
  }

  static AttributeProto tensorAttribute(String name, TensorProto value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.TENSOR).setT(value).build();
  }

  // ---- graph inputs/outputs and the model ------------------------------------------------------

  /** A graph input or output with its element type and dims: a {@code String} is symbolic, a number fixed. */
  static ValueInfoProto valueInfo(String name, TensorProto.DataType type, Object... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
      if (d instanceof String symbol) {
        dim.setDimParam(symbol);
      } else {
        dim.setDimValue(((Number) d).longValue());
      }
      shape.addDim(dim);
    }
    return ValueInfoProto.newBuilder().setName(name)
        .setType(TypeProto.newBuilder().setTensorType(
            TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape)))
        .build();
  }

  void input(ValueInfoProto info) {
    defineTensor(info.getName());
    graph.addInput(info);
  }

  void output(ValueInfoProto info) {
    graph.addOutput(info);
  }

  ModelProto model(String graphName) {
    ModelProto.Builder model = ModelProto.newBuilder()
        .setIrVersion(opset < 13 ? 6 : 8)
        .setProducerName("onnx-skip-synthetic")
        .setGraph(graph.clone().setName(graphName))
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset));
    if (usesMsDomain) {
      model.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(MS_DOMAIN).setVersion(1));
    }
    return model.build();
  }
}
