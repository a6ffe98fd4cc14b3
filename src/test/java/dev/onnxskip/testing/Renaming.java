package dev.onnxskip.testing;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.onnxskip.testing.SyntheticBert.Built;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Renames every node and every tensor except the graph's inputs and outputs, keeping the structure and the
 * ground truth (boundaries are renamed along). Graph inputs and outputs keep their names because callers
 * feed and fetch them by name, as with any real model.
 */
final class Renaming {

  /** Sub-paths of a torch BERT export, used to build names that point at the wrong place. */
  private static final List<String> MISLEADING_NODES = List.of(
      "attention/self/query/MatMul", "attention/self/key/Add", "attention/self/Softmax",
      "attention/output/LayerNorm/Add_1", "attention/output/Add", "intermediate/dense/MatMul",
      "intermediate/intermediate_act_fn/Erf", "output/dense/Add", "output/Add", "output/LayerNorm/Add_1",
      "output/LayerNorm/ReduceMean", "output/LayerNorm/Div");
  private static final List<String> MISLEADING_PARAMETERS = List.of(
      "attention.self.query.bias", "attention.self.value.bias", "attention.output.dense.bias",
      "attention.output.LayerNorm.weight", "intermediate.dense.bias", "output.LayerNorm.bias");
  private static final double MISLEADING_SHARE = 0.2;

  private Renaming() {}

  /** Every renamed node and tensor gets the next number of one counter, as old torch exports did. */
  static Built anonymous(Built built) {
    int[] counter = {0};
    Supplier<String> next = () -> Integer.toString(counter[0]++);
    return rename(built, next, next, next);
  }

  /** Random hex names from the spec's seed, some replaced by plausible torch names of the wrong layer. */
  static Built scrambled(Built built) {
    Random random = new Random(built.spec().seed() * 31 + 7);
    int layerRange = built.spec().layers() + 6;
    Set<String> used = new HashSet<>();
    Supplier<String> hex = () -> String.format("%08x", random.nextInt());
    Supplier<String> node = () -> unique(used, random.nextDouble() < MISLEADING_SHARE
        ? "/encoder/layer." + random.nextInt(layerRange) + "/" + pick(random, MISLEADING_NODES)
        : hex.get(), hex);
    Supplier<String> tensor = () -> unique(used, random.nextDouble() < MISLEADING_SHARE
        ? "/encoder/layer." + random.nextInt(layerRange) + "/" + pick(random, MISLEADING_NODES) + "_output_0"
        : hex.get(), hex);
    Supplier<String> parameter = () -> unique(used, random.nextDouble() < MISLEADING_SHARE
        ? "encoder.layer." + random.nextInt(layerRange) + "." + pick(random, MISLEADING_PARAMETERS)
        : hex.get(), hex);
    return rename(built, node, tensor, parameter);
  }

  private static Built rename(Built built, Supplier<String> nodeNames, Supplier<String> tensorNames,
      Supplier<String> parameterNames) {
    GraphProto graph = built.model().getGraph();
    Map<String, String> names = new HashMap<>();
    for (ValueInfoProto io : graph.getInputList()) {
      names.put(io.getName(), io.getName());
    }
    for (ValueInfoProto io : graph.getOutputList()) {
      names.put(io.getName(), io.getName());
    }
    names.put("", "");  // an omitted optional input stays omitted
    GraphProto.Builder renamed = graph.toBuilder().clearInitializer().clearNode();
    for (TensorProto init : graph.getInitializerList()) {
      String name = names.computeIfAbsent(init.getName(), old -> parameterNames.get());
      renamed.addInitializer(init.toBuilder().setName(name));
    }
    for (NodeProto node : graph.getNodeList()) {
      NodeProto.Builder copy = node.toBuilder().setName(nodeNames.get()).clearInput().clearOutput();
      for (String input : node.getInputList()) {
        copy.addInput(names.get(input));
      }
      for (String output : node.getOutputList()) {
        copy.addOutput(names.computeIfAbsent(output, old -> tensorNames.get()));
      }
      renamed.addNode(copy);
    }
    List<String> boundaries = built.boundaries().stream().map(names::get).toList();
    ModelProto model = built.model().toBuilder().setGraph(renamed).build();
    return new Built(model, boundaries, built.spec());
  }

  private static String pick(Random random, List<String> options) {
    return options.get(random.nextInt(options.size()));
  }

  /** Node and tensor names share one pool, so a misleading name is never reused. */
  private static String unique(Set<String> used, String candidate, Supplier<String> suffix) {
    String name = candidate;
    while (!used.add(name)) {
      name = candidate + "_" + suffix.get();
    }
    return name;
  }
}
