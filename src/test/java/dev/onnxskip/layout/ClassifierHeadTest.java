package dev.onnxskip.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.testing.PlainNets;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Spec;
import org.junit.jupiter.api.Test;

class ClassifierHeadTest {

  @Test
  void aMeanPoolClassifierReadsThePooledVector() {
    OnnxModel model = OnnxModel.of(SyntheticBert.build(Spec.tiny(2).withHidden(16).withHead(Head.MEAN_POOL_CLASSIFIER, 3)));
    ClassifierHead.Linear head = assertInstanceOf(ClassifierHead.Linear.class, ClassifierHead.of(model, "logits"));
    assertEquals(16, head.width());
    // The features are what the MatMul of the classifier reads: the pooled states.
    NodeProto matMul = model.proto().getGraph().getNodeList().stream()
        .filter(n -> n.getOpType().equals("MatMul") && n.getName().startsWith("/classifier")).findFirst().orElseThrow();
    assertEquals(matMul.getInput(0), head.features());
  }

  @Test
  void bertsPoolerAndClassifierReadTheTanhOutput() {
    OnnxModel model = OnnxModel.of(SyntheticBert.build(Spec.tiny(2).withHidden(16).withHead(Head.CLS_CLASSIFIER, 2)));
    ClassifierHead.Linear head = assertInstanceOf(ClassifierHead.Linear.class, ClassifierHead.of(model, "logits"));
    String producer = model.proto().getGraph().getNodeList().stream().filter(n -> n.getOutputList().contains(head.features()))
        .findFirst().orElseThrow().getOpType();
    assertEquals("Tanh", producer);
    assertEquals(16, head.width());
  }

  @Test
  void aGemmWithTransposedWeightGivesTheWeightsColumnCount() {
    ClassifierHead.Linear head = assertInstanceOf(ClassifierHead.Linear.class,
        ClassifierHead.of(OnnxModel.of(PlainNets.convNet()), "logits"));
    assertEquals(4, head.width(), "Flatten of 4 channels");
  }

  @Test
  void aSoftmaxAtTheEndIsNotALinearHeadAndTheReasonSaysWhatItIs() {
    ModelProto built = SyntheticBert.build(Spec.tiny(2).withHidden(16).withHead(Head.MEAN_POOL_CLASSIFIER, 3));
    ModelProto.Builder m = built.toBuilder();
    m.getGraphBuilder().addNode(NodeProto.newBuilder().setOpType("Softmax").setName("/probs").addInput("logits").addOutput("probs"));
    ValueInfoProto logits = m.getGraph().getOutput(0);
    m.getGraphBuilder().setOutput(0, logits.toBuilder().setName("probs"));
    ClassifierHead.NotLinear head = assertInstanceOf(ClassifierHead.NotLinear.class, ClassifierHead.of(OnnxModel.of(m.build()), "probs"));
    assertTrue(head.reason().contains("computed by Softmax node '/probs', not by a linear layer"), head.reason());
  }
}
