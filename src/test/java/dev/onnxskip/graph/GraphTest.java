package dev.onnxskip.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorAnnotation;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.OnnxSkipException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The graph IR's passes on small hand-written graphs whose right answer is plain to see: cleanup
 * (with If subgraphs that read outer-scope tensors, and quantization annotations), topological
 * sorting and its cycle errors, and the protobuf round trip.
 */
class GraphTest {

  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /**
   * {@code y = If(cond, then: x * two, else: If(cond, then: x, else: x + one))}: the outer nodes
   * {@code scale} and {@code offset} are read only from inside the branches, {@code offset} two
   * levels down; {@code dead} and its weight are read by nothing.
   */
  private static GraphProto branchingGraph() {
    GraphProto inner = GraphProto.newBuilder().setName("inner_then")
        .addNode(node("inner_then_id", "Identity", List.of("x"), List.of("inner_then_out")))
        .addOutput(floats("inner_then_out", 2)).build();
    GraphProto innerElse = GraphProto.newBuilder().setName("inner_else")
        .addNode(node("inner_else_id", "Identity", List.of("shifted"), List.of("inner_else_out")))
        .addOutput(floats("inner_else_out", 2)).build();
    GraphProto thenBranch = GraphProto.newBuilder().setName("then")
        .addNode(node("then_id", "Identity", List.of("scaled"), List.of("then_out")))
        .addOutput(floats("then_out", 2)).build();
    // The else branch holds an initializer of its own: a subgraph's own tensors are no outer reads.
    GraphProto elseBranch = GraphProto.newBuilder().setName("else")
        .addInitializer(floatTensor("else_zero", 0f, 0f))
        .addNode(node("inner_if", "If", List.of("cond"), List.of("inner_out"),
            graphAttr("then_branch", inner), graphAttr("else_branch", innerElse)))
        .addNode(node("else_add", "Add", List.of("inner_out", "else_zero"), List.of("else_out")))
        .addOutput(floats("else_out", 2)).build();
    return GraphProto.newBuilder().setName("branching")
        .addInput(ValueInfoProto.newBuilder().setName("cond").setType(tensorType(TensorProto.DataType.BOOL)))
        .addInput(floats("x", 2))
        .addInitializer(floatTensor("two", 2f, 2f))
        .addInitializer(floatTensor("one", 1f, 1f))
        .addInitializer(floatTensor("dead_weight", 5f, 5f))
        .addNode(node("scale", "Mul", List.of("x", "two"), List.of("scaled")))
        .addNode(node("offset", "Add", List.of("x", "one"), List.of("shifted")))
        .addNode(node("dead", "Mul", List.of("x", "dead_weight"), List.of("dead_out")))
        .addNode(node("branch", "If", List.of("cond"), List.of("y"),
            graphAttr("then_branch", thenBranch), graphAttr("else_branch", elseBranch)))
        .addOutput(floats("y", 2))
        .build();
  }

  @Test
  void anIfNodeReadsTheOuterTensorsOfItsBranchesAtAnyDepthButNotTheirOwn() {
    Node branch = Graph.fromProto(branchingGraph()).nodes().get(3);
    assertEquals("branch", branch.name());
    assertEquals(List.of("cond"), branch.inputs());
    assertEquals(Set.of("cond", "scaled", "shifted", "x"), branch.allInputs());
  }

  @Test
  void cleanupKeepsWhatOnlyABranchReadsAndTheCleanedGraphComputesTheSame() throws OrtException {
    GraphProto source = branchingGraph();
    Graph g = Graph.fromProto(source);
    g.cleanup();

    assertEquals(List.of("scale", "offset", "branch"), g.nodes().stream().map(Node::name).toList());
    assertEquals(List.of("two", "one"), List.copyOf(g.initializers().keySet()));
    // The If node is kept as it was, branches and their initializers included.
    assertEquals(source.getNode(3), g.nodes().get(2).proto());
    float[] x = {3, -4};
    GraphProto cleaned = g.toProto();
    assertArrayEquals(new float[] {6, -8}, run(cleaned, true, x), "then: x * 2");
    assertArrayEquals(new float[] {4, -3}, run(cleaned, false, x), "else, inner else: x + 1");
  }

  @Test
  void theRoundTripKeepsEveryFieldOfTheGraphAndItsSubgraphs() {
    GraphProto source = branchingGraph().toBuilder()
        .setDocString("kept")
        .addValueInfo(floats("scaled", 2))
        .addQuantizationAnnotation(annotation("scaled", "two", "one"))
        .build();
    GraphProto back = Graph.fromProto(source).toProto();
    assertEquals(source, back);
    // Equal protos could still differ in what a runtime reads; the serialized bytes do not.
    assertEquals(source.toByteString(), back.toByteString());
  }

  /** {@code q = Mul(x, w)} is annotated, with its scale and zero point; {@code d}, also annotated, is dead. */
  private static GraphProto annotatedGraph() {
    return GraphProto.newBuilder().setName("annotated")
        .addInput(floats("x", 2))
        .addInitializer(floatTensor("w", 1f, 2f))
        .addInitializer(floatTensor("q_scale", 0.5f))
        .addInitializer(floatTensor("q_zero", 0f))
        .addInitializer(floatTensor("d_scale", 0.25f))
        .addNode(node("live", "Mul", List.of("x", "w"), List.of("q")))
        .addNode(node("dead", "Neg", List.of("x"), List.of("d")))
        .addOutput(floats("q", 2))
        .addQuantizationAnnotation(annotation("x", "q_scale", "q_zero"))
        .addQuantizationAnnotation(annotation("d", "d_scale", "q_zero"))
        .addQuantizationAnnotation(annotation("q", "q_scale", "q_zero"))
        .build();
  }

  @Test
  void cleanupDropsTheAnnotationsOfTensorsThatGoAndKeepsTheRestWithTheirParameters() {
    Graph g = Graph.fromProto(annotatedGraph());
    g.cleanup();
    GraphProto cleaned = g.toProto();

    assertEquals(List.of("x", "q"), cleaned.getQuantizationAnnotationList().stream()
        .map(TensorAnnotation::getTensorName).toList(), "the dead tensor's annotation goes, the others keep their order");
    assertEquals(annotatedGraph().getQuantizationAnnotation(2), cleaned.getQuantizationAnnotation(1));
    // An annotation names its scale and zero point; they must not be pruned from under it.
    assertEquals(List.of("w", "q_scale", "q_zero"), List.copyOf(g.initializers().keySet()));
  }

  /**
   * Inputs {@code x} (read), {@code unused} (a run-time input nothing reads) and {@code stale} (backed
   * by an initializer, as IR 3 writes defaults; read only by dead nodes). Two outputs: {@code y} from
   * the first half of a split, and {@code r} straight from a node nothing else reads.
   */
  private static GraphProto prunableGraph() {
    return GraphProto.newBuilder().setName("prunable")
        .addInput(floats("x", 4))
        .addInput(floats("unused", 4))
        .addInput(floats("stale", 4))
        .addInitializer(floatTensor("stale", 1f, 1f, 1f, 1f))
        .addInitializer(floatTensor("w", 2f, 2f))
        .addInitializer(floatTensor("dead_w", 3f, 3f))
        .addNode(node("dead_head", "Mul", List.of("x", "stale"), List.of("d1")))
        .addNode(node("split", "Split", List.of("x"), List.of("lo", "hi"), intAttr("axis", 0)))
        .addNode(node("dead_tail", "Add", List.of("d1", "dead_w"), List.of("d2")))
        .addNode(node("scale", "Mul", List.of("lo", "w"), List.of("y")))
        .addNode(node("relu", "Relu", List.of("x"), List.of("r")))
        .addOutput(floats("y", 2))
        .addOutput(floats("r", 4))
        .addValueInfo(floats("lo", 2))
        .addValueInfo(floats("hi", 2))
        .addValueInfo(floats("d1", 4))
        .addValueInfo(floats("d2", 4))
        .build();
  }

  @Test
  void cleanupRemovesDeadNodesInitializersAndValueInfosAndKeepsOutputsAndRuntimeInputs() {
    Graph g = Graph.fromProto(prunableGraph());
    g.cleanup();

    assertEquals(List.of("split", "scale", "relu"), g.nodes().stream().map(Node::name).toList());
    assertEquals(List.of("w"), List.copyOf(g.initializers().keySet()), "dead_w and the stale default go");
    assertEquals(List.of("x", "unused"), g.inputNames(), "run-time inputs stay, even unread; the dead default goes");
    assertEquals(List.of("y", "r"), g.outputNames());
    // "hi" is read by nothing, but its node stays, so the tensor still exists and keeps its type.
    assertEquals(List.of("lo", "hi"), List.copyOf(g.valueInfo().keySet()));
    g.checkDefined();

    Graph again = Graph.fromProto(g.toProto());
    again.cleanup();
    assertEquals(g.toProto(), again.toProto(), "a clean graph is left alone");
  }

  /** a -> b -> d, a -> c -> d, d -> e, plus a node f that reads only the input; names say the order. */
  private static List<NodeProto> diamond() {
    return List.of(
        node("a", "Relu", List.of("x"), List.of("ta")),
        node("b", "Neg", List.of("ta"), List.of("tb")),
        node("c", "Abs", List.of("ta"), List.of("tc")),
        node("d", "Add", List.of("tb", "tc"), List.of("td")),
        node("f", "Neg", List.of("x"), List.of("tf")),
        node("e", "Add", List.of("td", "tf"), List.of("y")));
  }

  private static Graph graphOf(List<NodeProto> nodes) {
    return Graph.fromProto(GraphProto.newBuilder().setName("g").addInput(floats("x", 2)).addAllNode(nodes)
        .addOutput(floats("y", 2)).build());
  }

  @Test
  void toposortOrdersAShuffledGraphAndLeavesASortedOneAsItIs() {
    Graph sorted = graphOf(diamond());
    sorted.toposort();
    assertEquals(List.of("a", "b", "c", "d", "f", "e"), names(sorted), "an already valid order is kept");

    for (long seed = 0; seed < 20; seed++) {
      List<NodeProto> shuffled = new ArrayList<>(diamond());
      Collections.shuffle(shuffled, new Random(seed));
      Graph g = graphOf(shuffled);
      g.toposort();
      assertProducersFirst(g, "shuffle " + seed + " " + shuffled.stream().map(NodeProto::getName).toList());
      assertEquals(Set.copyOf(names(graphOf(diamond()))), Set.copyOf(names(g)), "the same nodes, none lost");
      g.checkDefined();
    }
  }

  @Test
  void toposortPutsAnIfAfterTheProducersOfWhatItsBranchesRead() {
    GraphProto source = branchingGraph();
    List<NodeProto> reversed = new ArrayList<>(source.getNodeList());
    Collections.reverse(reversed);
    Graph g = Graph.fromProto(source.toBuilder().clearNode().addAllNode(reversed).build());
    g.toposort();
    List<String> order = names(g);
    assertTrue(order.indexOf("branch") > order.indexOf("scale"), order.toString());
    assertTrue(order.indexOf("branch") > order.indexOf("offset"), "offset is read two levels down: " + order);
  }

  @Test
  void aCycleIsNamedNodeByNodeInDataFlowOrder() {
    // c <- b <- a <- c, written c, a, b; the input node before and the output node after are no part of it.
    Graph g = graphOf(List.of(
        node("start", "Relu", List.of("x"), List.of("s")),
        node("C", "Add", List.of("s", "b"), List.of("c")),
        node("A", "Neg", List.of("c"), List.of("a")),
        node("B", "Neg", List.of("a"), List.of("b")),
        node("end", "Identity", List.of("c"), List.of("y"))));
    OnnxSkipException e = assertThrows(OnnxSkipException.class, g::toposort);
    assertEquals("graph has a cycle: 'C' -> 'A' -> 'B' -> 'C'", e.getMessage());
  }

  @Test
  void aNodeReadingItsOwnOutputIsNamedWithTheTensor() {
    Graph named = graphOf(List.of(node("loop", "Add", List.of("x", "l"), List.of("l"))));
    assertEquals("graph has a cycle: node 'loop' reads its own output 'l'",
        assertThrows(OnnxSkipException.class, named::toposort).getMessage());
    // An unnamed node is called by its op type and output.
    Graph unnamed = graphOf(List.of(node("", "Add", List.of("x", "u"), List.of("u"))));
    assertEquals("graph has a cycle: node 'Add -> u' reads its own output 'u'",
        assertThrows(OnnxSkipException.class, unnamed::toposort).getMessage());
  }

  @Test
  void checkDefinedNamesTheDanglingTensorAndItsReader() {
    Graph reader = graphOf(List.of(node("n", "Add", List.of("x", "ghost"), List.of("y"))));
    assertEquals("node 'n' reads tensor 'ghost', which no node, initializer or graph input defines",
        assertThrows(OnnxSkipException.class, reader::checkDefined).getMessage());
    Graph output = graphOf(List.of(node("n", "Relu", List.of("x"), List.of("not_y"))));
    assertEquals("graph output 'y' is not produced by any node",
        assertThrows(OnnxSkipException.class, output::checkDefined).getMessage());
    // A tensor only an If branch reads is a read like any other.
    GraphProto branching = branchingGraph();
    Graph missingScale = Graph.fromProto(branching.toBuilder().removeNode(0).build());
    assertEquals("node 'branch' reads tensor 'scaled', which no node, initializer or graph input defines",
        assertThrows(OnnxSkipException.class, missingScale::checkDefined).getMessage());
  }

  private static void assertProducersFirst(Graph g, String what) {
    Set<String> defined = new HashSet<>(g.inputNames());
    for (Node n : g.nodes()) {
      for (String in : n.allInputs()) {
        assertTrue(defined.contains(in), what + ": " + n.name() + " reads " + in + " before it is produced");
      }
      defined.addAll(n.outputs());
    }
  }

  private static List<String> names(Graph g) {
    return g.nodes().stream().map(Node::name).toList();
  }

  /** Runs a graph in ONNX Runtime (opset 13) on a condition and a float vector; returns {@code y}. */
  private static float[] run(GraphProto graph, boolean cond, float[] x) throws OrtException {
    ModelProto model = ModelProto.newBuilder().setIrVersion(8).setGraph(graph)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).build();
    try (OrtSession session = ENV.createSession(model.toByteArray(), new OrtSession.SessionOptions());
        OnnxTensor c = OnnxTensor.createTensor(ENV, cond);
        OnnxTensor in = OnnxTensor.createTensor(ENV, x);
        OrtSession.Result result = session.run(Map.of("cond", c, "x", in))) {
      return (float[]) result.get("y").orElseThrow().getValue();
    }
  }

  private static NodeProto node(String name, String op, List<String> inputs, List<String> outputs,
      AttributeProto... attributes) {
    return NodeProto.newBuilder().setName(name).setOpType(op).addAllInput(inputs).addAllOutput(outputs)
        .addAllAttribute(List.of(attributes)).build();
  }

  private static AttributeProto graphAttr(String name, GraphProto g) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.GRAPH).setG(g).build();
  }

  private static AttributeProto intAttr(String name, long value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
  }

  private static TensorAnnotation annotation(String tensor, String scale, String zeroPoint) {
    return TensorAnnotation.newBuilder().setTensorName(tensor)
        .addQuantParameterTensorNames(StringStringEntryProto.newBuilder().setKey("SCALE_TENSOR").setValue(scale))
        .addQuantParameterTensorNames(StringStringEntryProto.newBuilder().setKey("ZERO_POINT_TENSOR").setValue(zeroPoint))
        .build();
  }

  /** A float vector of the given values; a single value makes a scalar. */
  private static TensorProto floatTensor(String name, float... values) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
    if (values.length > 1) {
      t.addDims(values.length);
    }
    for (float v : values) {
      t.addFloatData(v);
    }
    return t.build();
  }

  private static ValueInfoProto floats(String name, long length) {
    TensorShapeProto shape = TensorShapeProto.newBuilder()
        .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(length)).build();
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
        TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
  }

  private static TypeProto tensorType(TensorProto.DataType elem) {
    return TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elem.getNumber())).build();
  }
}
