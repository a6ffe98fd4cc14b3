package dev.onnxskip.testing;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import dev.onnxskip.testing.SyntheticBert.Built;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;
import java.util.function.IntUnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Edits of synthetic models that give the export styles and the broken graphs detection must cope
 * with: softmax written out as Exp/ReduceSum/Div (so attention is no longer recognisable and only
 * names are left), a layer with a doubled softmax, static QDQ quantization on the block
 * boundaries, and layer scopes that lie. Each edit keeps the ground truth in step.
 */
public final class ModelEdits {

  /** The scale of the QDQ pairs: int8 steps of 0.05 cover the +-6 that LayerNorm outputs stay within. */
  public static final float QDQ_SCALE = 0.05f;

  private static final Pattern LAYER_SCOPE = Pattern.compile("/layer\\.(\\d+)/");

  private ModelEdits() {}

  /**
   * Writes the softmaxes whose ordinal (0-based, in graph order) {@code which} accepts as
   * {@code Div(Exp(x), ReduceSum(Exp(x), last axis))}, keeping their scopes and output names. The
   * function stays the same (scores are small, masked ones are about -3.4e38 and give 0).
   */
  public static Built softmaxWrittenOut(Built built, IntPredicate which) {
    int opset = opset(built.model());
    GraphProto graph = built.model().getGraph();
    GraphProto.Builder g = graph.toBuilder().clearNode();
    int ordinal = 0;
    for (NodeProto n : graph.getNodeList()) {
      if (!n.getOpType().equals("Softmax") || !which.test(ordinal++)) {
        g.addNode(n);
        continue;
      }
      String scope = n.getName().substring(0, n.getName().lastIndexOf('/') + 1);
      String out = n.getOutput(0);
      String exp = out + "/exp";
      String sum = out + "/sum";
      g.addNode(node(scope + "Exp", "Exp", List.of(n.getInput(0)), exp));
      NodeProto.Builder reduce = NodeProto.newBuilder().setName(scope + "ReduceSum").setOpType("ReduceSum")
          .addInput(exp).addOutput(sum).addAttribute(GraphBuilder.integer("keepdims", 1));
      if (opset < 13) {
        reduce.addAttribute(GraphBuilder.ints("axes", -1));
      } else {
        String axes = out + "/axes";
        g.addInitializer(GraphBuilder.longTensor(axes, new long[] {1}, new long[] {-1}));
        reduce.addInput(axes);
      }
      g.addNode(reduce);
      g.addNode(node(scope + "Div_softmax", "Div", List.of(exp, sum), out));
    }
    return new Built(built.model().toBuilder().setGraph(g).build(), built.boundaries(), built.spec());
  }

  /** The softmax with this ordinal applied twice, a second attention op in that layer. */
  public static Built softmaxDoubled(Built built, int ordinal) {
    GraphProto graph = built.model().getGraph();
    GraphProto.Builder g = graph.toBuilder().clearNode();
    int seen = 0;
    for (NodeProto n : graph.getNodeList()) {
      if (!n.getOpType().equals("Softmax") || seen++ != ordinal) {
        g.addNode(n);
        continue;
      }
      String first = n.getOutput(0) + "/first";
      g.addNode(n.toBuilder().setOutput(0, first));
      g.addNode(n.toBuilder().setName(n.getName() + "_again").setInput(0, first));
    }
    return new Built(built.model().toBuilder().setGraph(g).build(), built.boundaries(), built.spec());
  }

  /**
   * Static QDQ quantization of every boundary that is not a graph output, named as ONNX Runtime's
   * quantizer names it ({@code T_QuantizeLinear} writing {@code T_quantized}, {@code
   * T_DequantizeLinear} writing {@code T_DequantizeLinear_Output}): all readers of the boundary
   * read the dequantized copy, so that copy is the residual stream and the new boundary. Its
   * scale and zero point are per-pair initializers.
   */
  public static Built qdqOnBoundaries(Built built) {
    GraphProto graph = built.model().getGraph();
    Set<String> outputs = new HashSet<>();
    graph.getOutputList().forEach(o -> outputs.add(o.getName()));
    Map<String, String> dequantized = new HashMap<>();
    for (String b : built.boundaries()) {
      if (!outputs.contains(b)) {
        dequantized.put(b, b + "_DequantizeLinear_Output");
      }
    }
    GraphProto.Builder g = graph.toBuilder().clearNode();
    for (NodeProto n : graph.getNodeList()) {
      NodeProto.Builder reader = n.toBuilder();
      for (int i = 0; i < reader.getInputCount(); i++) {
        reader.setInput(i, dequantized.getOrDefault(reader.getInput(i), reader.getInput(i)));
      }
      g.addNode(reader);
      for (String out : n.getOutputList()) {
        if (!dequantized.containsKey(out)) {
          continue;
        }
        String scale = out + "_scale";
        String zeroPoint = out + "_zero_point";
        g.addInitializer(GraphBuilder.floatTensor(scale, new long[0], new float[] {QDQ_SCALE}));
        g.addInitializer(TensorProto.newBuilder().setName(zeroPoint).setDataType(TensorProto.DataType.INT8_VALUE)
            .setRawData(ByteString.copyFrom(new byte[] {0})));
        String quantized = out + "_quantized";
        g.addNode(node(out + "_QuantizeLinear", "QuantizeLinear", List.of(out, scale, zeroPoint), quantized));
        g.addNode(node(out + "_DequantizeLinear", "DequantizeLinear", List.of(quantized, scale, zeroPoint),
            dequantized.get(out)));
      }
    }
    List<String> boundaries = built.boundaries().stream().map(b -> dequantized.getOrDefault(b, b)).toList();
    return new Built(built.model().toBuilder().setGraph(g).build(), boundaries, built.spec());
  }

  /** Node names with every {@code /layer.K/} scope renumbered to {@code /layer.f(K)/}; structure untouched. */
  public static Built layerScopesRenumbered(Built built, IntUnaryOperator f) {
    GraphProto.Builder g = built.model().getGraph().toBuilder();
    for (NodeProto.Builder n : g.getNodeBuilderList()) {
      Matcher m = LAYER_SCOPE.matcher(n.getName());
      if (m.find()) {
        n.setName(m.replaceFirst("/layer." + f.applyAsInt(Integer.parseInt(m.group(1))) + "/"));
      }
    }
    return new Built(built.model().toBuilder().setGraph(g).build(), built.boundaries(), built.spec());
  }

  /** Every node of this op type turned into another op type of the same domain, inputs and outputs. */
  public static ModelProto opTypeReplaced(ModelProto model, String from, String to) {
    GraphProto.Builder g = model.getGraph().toBuilder();
    for (NodeProto.Builder n : g.getNodeBuilderList()) {
      if (n.getOpType().equals(from)) {
        n.setOpType(to);
      }
    }
    return model.toBuilder().setGraph(g).build();
  }

  /** Input number {@code input} of the named node rewired to read {@code tensor}. */
  public static ModelProto inputRewired(ModelProto model, String nodeName, int input, String tensor) {
    GraphProto.Builder g = model.getGraph().toBuilder();
    for (NodeProto.Builder n : g.getNodeBuilderList()) {
      if (n.getName().equals(nodeName)) {
        n.setInput(input, tensor);
        return model.toBuilder().setGraph(g).build();
      }
    }
    throw new IllegalArgumentException("no node " + nodeName);
  }

  /**
   * The model without its position-embedding table, as an encoder with relative positions (or none)
   * has it: the Add of the position embeddings passes the other summand through, and what only the
   * lookup read (the table, the position ids and their slicing) is removed. Such a model takes texts
   * of any length.
   */
  public static ModelProto positionTableRemoved(ModelProto model) {
    GraphProto.Builder g = model.getGraph().toBuilder();
    String positions = g.getNodeList().stream()
        .filter(n -> n.getOpType().equals("Gather") && n.getInput(0).endsWith("position_embeddings.weight"))
        .map(n -> n.getOutput(0)).findFirst().orElseThrow(() -> new IllegalArgumentException("no position-embedding lookup"));
    for (NodeProto.Builder n : g.getNodeBuilderList()) {
      int k = n.getInputList().indexOf(positions);
      if (k >= 0) {
        String other = n.getInput(1 - k);
        n.setOpType("Identity").clearInput().addInput(other);
      }
    }
    Set<String> used = new HashSet<>();
    g.getOutputList().forEach(o -> used.add(o.getName()));
    List<NodeProto> kept = new ArrayList<>(g.getNodeList());
    // Backwards from the outputs, dropping nodes whose outputs nothing reads.
    boolean removed = true;
    while (removed) {
      Set<String> read = new HashSet<>(used);
      kept.forEach(n -> read.addAll(n.getInputList()));
      removed = kept.removeIf(n -> n.getOutputList().stream().noneMatch(read::contains));
    }
    Set<String> read = new HashSet<>(used);
    kept.forEach(n -> read.addAll(n.getInputList()));
    List<TensorProto> initializers = g.getInitializerList().stream().filter(t -> read.contains(t.getName())).toList();
    g.clearNode().addAllNode(kept).clearInitializer().addAllInitializer(initializers);
    return model.toBuilder().setGraph(g).build();
  }

  /** The names of the graph inputs {@code tensor} is computed from. */
  public static Set<String> graphInputsFeeding(ModelProto model, String tensor) {
    GraphProto graph = model.getGraph();
    Map<String, NodeProto> producer = new HashMap<>();
    graph.getNodeList().forEach(n -> n.getOutputList().forEach(o -> producer.put(o, n)));
    Set<String> inputs = new HashSet<>();
    graph.getInputList().stream().map(ValueInfoProto::getName).forEach(inputs::add);
    Set<String> found = new HashSet<>();
    Set<String> seen = new HashSet<>();
    List<String> todo = new ArrayList<>(List.of(tensor));
    while (!todo.isEmpty()) {
      String t = todo.remove(todo.size() - 1);
      if (!seen.add(t)) {
        continue;
      }
      if (inputs.contains(t)) {
        found.add(t);
      }
      NodeProto p = producer.get(t);
      if (p != null) {
        todo.addAll(p.getInputList());
      }
    }
    return found;
  }

  private static int opset(ModelProto model) {
    return (int) model.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty()).findFirst()
        .orElseThrow().getVersion();
  }

  private static NodeProto node(String name, String opType, List<String> inputs, String output) {
    return NodeProto.newBuilder().setName(name).setOpType(opType).addAllInput(inputs).addOutput(output).build();
  }

  /**
   * The model with int32 token inputs: each graph input keeps its name but becomes int32, and a Cast
   * back to int64 feeds the nodes that read it, as some exporters write it.
   */
  public static ModelProto withInt32Inputs(ModelProto model) {
    GraphProto.Builder g = model.getGraph().toBuilder();
    List<NodeProto> casts = new ArrayList<>();
    for (int i = 0; i < g.getInputCount(); i++) {
      ValueInfoProto in = g.getInput(i);
      String wide = in.getName() + "_int64";
      for (int n = 0; n < g.getNodeCount(); n++) {
        NodeProto.Builder node = g.getNode(n).toBuilder();
        for (int k = 0; k < node.getInputCount(); k++) {
          if (node.getInput(k).equals(in.getName())) {
            node.setInput(k, wide);
          }
        }
        g.setNode(n, node);
      }
      casts.add(NodeProto.newBuilder().setName("/inputs/Cast_" + i).setOpType("Cast").addInput(in.getName()).addOutput(wide)
          .addAttribute(intAttr("to", TensorProto.DataType.INT64_VALUE)).build());
      ValueInfoProto.Builder narrowed = in.toBuilder();
      narrowed.getTypeBuilder().getTensorTypeBuilder().setElemType(TensorProto.DataType.INT32_VALUE);
      g.setInput(i, narrowed);
    }
    List<NodeProto> nodes = new ArrayList<>(casts);
    nodes.addAll(g.getNodeList());
    g.clearNode().addAllNode(nodes);
    return model.toBuilder().setGraph(g).build();
  }

  private static AttributeProto intAttr(String name, long value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
  }
}
