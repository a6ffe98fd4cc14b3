package dev.onnxskip.layout;

import dev.onnxskip.graph.ElementType;
import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorIndex;
import dev.onnxskip.graph.WeightInfo;
import java.util.Optional;

/**
 * What computes a classifier's logits: a linear layer over one feature vector per example (the
 * pooled encoder output), or something else. A linear head can be retrained on any variant's
 * features, which tells how much of a skipped span's damage a fresh head recovers.
 *
 * <p>Recognised: {@code Gemm(features, W, b)} as torch exports {@code nn.Linear} on a 2-D input, and
 * {@code Add(MatMul(features, W), b)} (either order of the Add's inputs) as other exporters and the
 * probe write it, with W a 2-D weight and b a weight or absent.
 */
public sealed interface ClassifierHead {

  /**
   * @param features the tensor the head reads, [batch, width]
   * @param width the features' width, from the weight's shape
   */
  record Linear(String features, long width) implements ClassifierHead {}

  /** @param reason what the logits are computed by, said so that a user sees why no head was refit */
  record NotLinear(String reason) implements ClassifierHead {}

  /** Reads the head that computes {@code logitsOutput}. */
  static ClassifierHead of(OnnxModel model, String logitsOutput) {
    Graph g = model.copyGraph();
    TensorIndex index = new TensorIndex(g);
    Optional<Node> last = index.producer(logitsOutput).map(index::node);
    if (last.isEmpty()) {
      return new NotLinear("the classifier output '" + logitsOutput + "' is not computed by any node");
    }
    Node node = last.get();
    if (node.opType().equals("Gemm") && node.inDefaultDomain()) {
      return gemm(g, node, logitsOutput);
    }
    if (node.opType().equals("Add") && node.inDefaultDomain() && node.inputs().size() == 2) {
      for (int side = 0; side < 2; side++) {
        String product = node.inputs().get(side);
        String bias = node.inputs().get(1 - side);
        Optional<Node> matMul = index.producer(product).map(index::node)
            .filter(m -> m.opType().equals("MatMul") && m.inDefaultDomain());
        if (matMul.isPresent() && isVector(g, bias)) {
          return matMul(g, matMul.get(), logitsOutput);
        }
      }
    }
    if (node.opType().equals("MatMul") && node.inDefaultDomain()) {
      return matMul(g, node, logitsOutput);
    }
    return new NotLinear("the classifier output '" + logitsOutput + "' is computed by " + node.qualifiedOpType() + " node '"
        + node.label() + "', not by a linear layer (MatMul/Gemm + Add) over a pooled vector");
  }

  private static ClassifierHead gemm(Graph g, Node node, String logitsOutput) {
    Optional<WeightInfo> w = g.weight(node.inputs().get(1)).filter(ClassifierHead::isFloatMatrix);
    boolean transA = intAttribute(node, "transA") != 0;
    if (w.isEmpty() || transA) {
      return new NotLinear("the classifier output '" + logitsOutput + "' is computed by Gemm node '" + node.label()
          + "' whose weight is not a stored 2-D float32 matrix or whose input is transposed");
    }
    boolean transB = intAttribute(node, "transB") != 0;
    return new Linear(node.inputs().get(0), w.get().dims().get(transB ? 1 : 0));
  }

  private static ClassifierHead matMul(Graph g, Node node, String logitsOutput) {
    Optional<WeightInfo> w = g.weight(node.inputs().get(1)).filter(ClassifierHead::isFloatMatrix);
    if (w.isEmpty()) {
      return new NotLinear("the classifier output '" + logitsOutput + "' is computed by MatMul node '" + node.label()
          + "' whose second input is not a stored 2-D float32 weight");
    }
    return new Linear(node.inputs().get(0), w.get().dims().get(0));
  }

  /** Float32 only: the features are fetched and refit as float32, as the logits are. */
  private static boolean isFloatMatrix(WeightInfo w) {
    return w.dims().size() == 2 && w.elementType() == ElementType.FLOAT;
  }

  private static boolean isVector(Graph g, String tensor) {
    return g.weight(tensor).map(i -> i.dims().size() <= 2).orElse(false);
  }

  private static long intAttribute(Node node, String name) {
    return node.proto().getAttributeList().stream().filter(a -> a.getName().equals(name)).findFirst().map(a -> a.getI()).orElse(0L);
  }
}
