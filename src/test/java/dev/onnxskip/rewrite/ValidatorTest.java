package dev.onnxskip.rewrite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnxruntime.OrtException;
import com.google.protobuf.ByteString;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.LayerNorm;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ValidatorTest {

  @Test
  void theRealModelsAreValid() {
    for (String m : new String[] {"models/minilm-l6/model.onnx", "models/minilm-l6-q/model.onnx"}) {
      Validator.Report r = Validator.validate(Path.of(m));
      assertTrue(r.uncheckedOps().isEmpty(), r.describe());
      assertEquals(m + ": valid ONNX (ONNX 1.17.0 checker, full check; strict shape inference with data propagation)",
          r.describe());
    }
  }

  @Test
  void fusedGraphsSayWhichOpsTheCheckerCannotCheck(@TempDir Path tmp) {
    Path file = tmp.resolve("fused.onnx");
    ModelIO.save(SyntheticBert.fused(Spec.tiny(2)), file);
    Validator.Report r = Validator.validate(file);
    assertEquals(Map.of("com.microsoft.Attention", 2, "com.microsoft.BiasGelu", 2,
        "com.microsoft.EmbedLayerNormalization", 1, "com.microsoft.SkipLayerNormalization", 4), r.uncheckedOps());
    assertTrue(r.describe().endsWith("; 9 of 18 nodes are outside the ONNX domains and were checked for structure only,"
        + " as the ONNX checker has no schema for them: com.microsoft.Attention x2, com.microsoft.BiasGelu x2,"
        + " com.microsoft.EmbedLayerNormalization x1, com.microsoft.SkipLayerNormalization x4"), r.describe());
  }

  @Test
  void dataPropagationCatchesAReshapeThatTheFullCheckLetsPass(@TempDir Path tmp) {
    // Tiny spec: 2 heads of 8. The value projection is reshaped to 4 heads of 4 instead, which keeps
    // the element count; only following the computed shape into the MatMul with the 2-head
    // attention probabilities shows the mismatch.
    Spec spec = Spec.tiny(2).withLayerNorm(LayerNorm.OP);
    ModelProto.Builder bad = SyntheticBert.build(spec).toBuilder();
    var g = bad.getGraphBuilder();
    NodeProto concat = g.getNodeList().stream()
        .filter(n -> n.getName().equals("/encoder/layer.0/attention/self/Concat_1")).findFirst().orElseThrow();
    for (int i = 0; i < g.getNodeCount(); i++) {
      String out = g.getNode(i).getOutput(0);
      if (out.equals(concat.getInput(2)) || out.equals(concat.getInput(3))) {
        g.setNode(i, withLong(g.getNode(i), 4));
      }
    }
    Path file = save(tmp, "bad-reshape.onnx", bad.build());

    ReferenceOnnx.checkModel(file);
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> Validator.validate(file));
    assertEquals(file + ": not valid ONNX: shape inference error at node '/encoder/layer.0/attention/self/MatMul_1'"
        + " (MatMul): Incompatible dimensions (and 3 more after it)", e.getMessage());
    // The mismatch is real: the runtime fails on it too, only later, at run time.
    assertThrows(OrtException.class, () -> OrtHarness.run(OnnxModel.of(bad.build()),
        StaticShapesTest.feeds(SyntheticBert.randomInputs(spec, 2, 5, 1)), Map.of()));
  }

  @Test
  void theFullCheckCatchesAWrongDeclaredOutputShape(@TempDir Path tmp) {
    ModelProto.Builder bad = SyntheticBert.build(Spec.tiny(2).withLayerNorm(LayerNorm.OP)).toBuilder();
    bad.getGraphBuilder().getOutputBuilder(0).getTypeBuilder().getTensorTypeBuilder().getShapeBuilder()
        .setDim(2, TensorShapeProto.Dimension.newBuilder().setDimValue(17));
    Path file = save(tmp, "bad-output.onnx", bad.build());
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> Validator.validate(file));
    assertEquals(file + ": not valid ONNX: shape inference error at node '/encoder/layer.1/output/LayerNorm/LayerNormalization'"
        + " (LayerNormalization): Inferred shape and existing shape differ in dimension 2: (16) vs (17)", e.getMessage());
  }

  @Test
  void checkerMessagesKeepTheirContextOnOneLine(@TempDir Path tmp) {
    // Gelu joined the default domain at opset 20; this model imports opset 11.
    ModelProto.Builder bad = SyntheticBert.build(Spec.tiny(1)).toBuilder();
    var g = bad.getGraphBuilder();
    for (int i = 0; i < g.getNodeCount(); i++) {
      if (g.getNode(i).getOpType().equals("Erf")) {
        g.setNode(i, g.getNode(i).toBuilder().setOpType("Gelu"));
      }
    }
    Path file = save(tmp, "gelu.onnx", bad.build());
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> Validator.validate(file));
    assertEquals(file + ": not valid ONNX: No Op registered for Gelu with domain_version of 11; context: Bad node spec"
        + " for node. Name: /encoder/layer.0/intermediate/intermediate_act_fn/Erf OpType: Gelu", e.getMessage());
  }

  @Test
  void externalDataIsCheckedFromThePath(@TempDir Path tmp) throws Exception {
    OnnxModel source = OnnxModel.of(SyntheticBert.build(Spec.tiny(3).withHidden(32)));
    Path dir = tmp.resolve("ext");
    VariantWriter writer = VariantWriter.create(source, LayoutDetector.detect(source), "0".repeat(64),
        Optional.of(dir.resolve("model.weights")));
    Path variant = dir.resolve("skip-1-1.onnx");
    writer.write(new SkipSpan(1, 1), variant);
    assertTrue(Validator.validate(variant).uncheckedOps().isEmpty());

    // The checker is run from the model's folder's point of view, not the working folder's: a
    // missing or short weights file is named.
    try (FileChannel ch = FileChannel.open(dir.resolve("model.weights"), StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() / 2);
    }
    OnnxSkipException shortFile = assertThrows(OnnxSkipException.class, () -> Validator.validate(variant));
    assertTrue(shortFile.getMessage().contains("model.weights is too short for tensor"), shortFile.getMessage());
    Files.delete(dir.resolve("model.weights"));
    OnnxSkipException missing = assertThrows(OnnxSkipException.class, () -> Validator.validate(variant));
    assertTrue(missing.getMessage().contains("model.weights of tensor") && missing.getMessage().contains("is missing"),
        missing.getMessage());
  }

  @Test
  void opsetsNewerThanTheCheckerAreNamedAsSuch(@TempDir Path tmp) {
    ModelProto newer = SyntheticBert.build(Spec.tiny(1).withLayerNorm(LayerNorm.OP)).toBuilder()
        .setOpsetImport(0, OperatorSetIdProto.newBuilder().setDomain("").setVersion(23)).build();
    Path file = save(tmp, "opset23.onnx", newer);
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> Validator.validate(file));
    assertEquals(file + ": imports ai.onnx opset 23, newer than the ONNX 1.17.0 checker knows (up to 22); it cannot be"
        + " validated here", e.getMessage());
  }

  @Test
  void filesThatAreNotModelsFailAsEverywhereElse(@TempDir Path tmp) throws Exception {
    Path random = tmp.resolve("random.onnx");
    byte[] bytes = new byte[4096];
    new java.util.Random(7).nextBytes(bytes);
    Files.write(random, bytes);
    Path truncated = tmp.resolve("truncated.onnx");
    Files.write(truncated, java.util.Arrays.copyOf(SyntheticBert.build(Spec.tiny(1)).toByteArray(), 3000));
    Path empty = Files.createFile(tmp.resolve("empty.onnx"));
    for (Path p : new Path[] {random, truncated, empty, tmp.resolve("missing.onnx")}) {
      OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> Validator.validate(p), p.toString());
      assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
      assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
  }

  private static Path save(Path dir, String name, ModelProto model) {
    Path file = dir.resolve(name);
    ModelIO.save(model, file);
    return file;
  }

  /** A Constant node holding one int64 with another value. */
  private static NodeProto withLong(NodeProto constant, long value) {
    NodeProto.Builder b = constant.toBuilder();
    TensorProto.Builder t = b.getAttributeBuilder(0).getTBuilder();
    assertEquals(TensorProto.DataType.INT64.getNumber(), t.getDataType());
    t.setRawData(ByteString.copyFrom(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array()));
    return b.build();
  }
}
