package dev.onnxskip.rewrite;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The model after the embeddings with every encoder block behind a switch, so that one session
 * can run any span of blocks: it reads {@code boundary(0)} and the token inputs it needs, and block
 * k sits in an {@code If} on the boolean scalar input {@link #switchInput switchInput(k)}. The
 * then-branch holds the block's nodes; the else-branch passes the block's input through. The If of
 * block k writes {@code boundary(k + 1)}, and every boundary is a graph output besides the head's outputs (the logits, and the features a linear
 * head reads where they are asked for).
 * Side inputs computed from the token inputs alone, such as the attention mask, stay in the main
 * graph, where every branch reads them.
 *
 * <p>Every weight stays an initializer of the main graph, which the branches read from the outer
 * scope. ONNX Runtime takes weights from buffers for the main graph only; and of weights in
 * external-data files it holds one copy where the main graph has them, but two where a branch
 * does: on a 2.3 GB model, make bench-large measured the shared engine's peak RSS at 2.09 times
 * the weights with them in the branches and 1.12 times with them in the main graph.
 *
 * <p>The pass does not modify its input model: it works on a fresh graph IR of a sub-model.
 */
public final class SwitchedLayers {
  private SwitchedLayers() {}

  /** The boolean graph input that switches layer {@code k} on (run it) or off (pass its input through). */
  public static String switchInput(int k) {
    return "onnx_skip/run_layer_" + k;
  }

  /**
   * @throws OnnxSkipException if some node reads a tensor another block computes other than through
   *     the residual stream, which no per-block switch could keep right
   */
  public static OnnxModel apply(OnnxModel model, EncoderLayout layout, String... headOutputs) {
    OnnxModel cut = SubModels.extract(model, layout, List.of(layout.boundary(0)), List.of(headOutputs));
    Graph main = cut.copyGraph();
    Blocks blocks = Blocks.of(cut, main, layout);
    int layers = layout.layers();
    Set<String> blockOutputs = new HashSet<>();
    List<Node> switched = new ArrayList<>();
    List<ValueInfoProto> outputs = new ArrayList<>();
    for (int k = 0; k < layers; k++) {
      String out = layout.boundary(k + 1);
      // A branch's output must be a tensor of its own; the If node writes the boundary.
      Graph run = emptyGraph("onnx_skip_run_layer_" + k);
      for (Node node : blocks.nodes().get(k)) {
        for (String o : node.outputs()) {
          ValueInfoProto info = main.valueInfo().get(o);
          if (info != null && !o.equals(out)) {
            run.putValueInfo(info);
          }
        }
        run.addNode(node);
        node.outputs().stream().filter(o -> !o.isEmpty()).forEach(blockOutputs::add);
      }
      run.renameOutput(out, out + "/run");
      run.setOutputs(List.of(SubModels.streamValueInfo(main, layout, out + "/run")));
      Graph skip = emptyGraph("onnx_skip_skip_layer_" + k);
      skip.addNode(new Node(NodeProto.newBuilder().setOpType("Identity").setName("/onnx_skip/skip_layer_" + k + "/Identity")
          .addInput(layout.boundary(k)).addOutput(out + "/skip").build()));
      skip.setOutputs(List.of(SubModels.streamValueInfo(main, layout, out + "/skip")));
      switched.add(new Node(NodeProto.newBuilder().setOpType("If").setName("/onnx_skip/layer_" + k + "/If")
          .addInput(switchInput(k)).addOutput(out)
          .addAttribute(branch("then_branch", run))
          .addAttribute(branch("else_branch", skip))
          .build()));
      outputs.add(SubModels.streamValueInfo(main, layout, out));
    }
    for (String headOutput : headOutputs) {
      outputs.add(main.outputs().get(main.outputNames().indexOf(headOutput)));
    }
    main.removeProducersOf(blockOutputs);
    switched.forEach(main::addNode);
    for (int k = 0; k < layers; k++) {
      main.addInput(ValueInfoProto.newBuilder().setName(switchInput(k)).setType(TypeProto.newBuilder().setTensorType(
          TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.BOOL_VALUE).setShape(TensorShapeProto.getDefaultInstance()))).build());
    }
    main.setOutputs(outputs);
    // Value infos moved into a branch are no longer the main graph's.
    main.cleanup();
    // The Ifs go between the side-input nodes and the head, keeping the order of both.
    main.toposort();
    return cut.withGraph(main);
  }

  /** The nodes of each block. */
  private record Blocks(List<List<Node>> nodes) {

    /**
     * Puts every node in the block of its depth: the last boundary it depends on, or -1 for side
     * inputs computed from the token inputs alone. A node of depth k < L belongs to block k; depth
     * L is the head.
     */
    static Blocks of(OnnxModel cut, Graph g, EncoderLayout layout) {
      int layers = layout.layers();
      Map<String, Integer> boundaryIndex = new HashMap<>();
      for (int k = 0; k <= layers; k++) {
        boundaryIndex.put(layout.boundary(k), k);
      }
      Map<String, Integer> depth = new HashMap<>(boundaryIndex);
      List<List<Node>> blockNodes = new ArrayList<>();
      for (int k = 0; k < layers; k++) {
        blockNodes.add(new ArrayList<>());
      }
      for (Node node : g.nodes()) {
        int d = -1;
        for (String in : node.allInputs()) {
          d = Math.max(d, depth.getOrDefault(in, -1));
        }
        for (String in : node.allInputs()) {
          int from = depth.getOrDefault(in, -1);
          if (from >= 0 && from != d) {
            throw new OnnxSkipException(cut.describe() + ": node '" + node.label() + "' of " + (d == layers ? "the head" : "layer " + d)
                + " reads '" + in + "' of layer " + from + "; the shared engine can only switch layers that pass nothing on but "
                + "their output on the residual stream (use --engine naive)");
          }
        }
        for (String out : node.outputs()) {
          Integer b = boundaryIndex.get(out);
          if (b != null && b != d + 1) {
            throw new OnnxSkipException(cut.describe() + ": the residual-stream tensor '" + out + "' is not computed from the layer "
                + (b - 1) + " input; the shared engine cannot switch its layers (use --engine naive)");
          }
          if (b == null && !out.isEmpty()) {
            depth.put(out, d);
          }
        }
        if (d >= 0 && d < layers) {
          blockNodes.get(d).add(node);
        }
      }
      return new Blocks(blockNodes);
    }
  }

  private static Graph emptyGraph(String name) {
    return Graph.fromProto(GraphProto.newBuilder().setName(name).build());
  }

  private static AttributeProto branch(String attribute, Graph body) {
    return AttributeProto.newBuilder().setName(attribute).setType(AttributeProto.AttributeType.GRAPH).setG(body.toProto()).build();
  }
}
