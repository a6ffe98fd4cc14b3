package dev.onnxskip.runtime;

import dev.onnxskip.data.TokenRole;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.UsageException;
import dev.onnxskip.data.TokenRole;
import dev.onnxskip.eval.KnownAnswerModel;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.runtime.ClassifierSignature.TokenInput;
import dev.onnxskip.testing.ModelEdits;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ClassifierSignatureTest {

  static final Spec CLASSIFIER = Spec.tiny(2).withHead(Head.MEAN_POOL_CLASSIFIER, 3);

  static OnnxModel withExtraInput(ModelProto model, String name) {
    return OnnxModel.of(model.toBuilder().setGraph(model.getGraph().toBuilder()
        .addInput(KnownAnswerModel.valueInfo(name, TensorProto.DataType.INT64, "batch", "sequence"))).build());
  }

  @Test
  void aClassifierDeclaresItsTokenInputsAndLogits() {
    ClassifierSignature signature = ClassifierSignature.of(OnnxModel.of(SyntheticBert.build(CLASSIFIER)), Optional.empty());
    assertEquals(List.of(new TokenInput("input_ids", TokenRole.INPUT_IDS, false), new TokenInput("attention_mask", TokenRole.ATTENTION_MASK, false),
        new TokenInput("token_type_ids", TokenRole.TOKEN_TYPE_IDS, false)), signature.inputs());
    assertEquals("logits", signature.logitsOutput());
    assertEquals(3, signature.logitsWidth());

    ClassifierSignature narrow = ClassifierSignature.of(OnnxModel.of(ModelEdits.withInt32Inputs(SyntheticBert.build(CLASSIFIER))),
        Optional.empty());
    assertTrue(narrow.inputs().stream().allMatch(TokenInput::int32), narrow.toString());
  }

  @Test
  void positionIdsAreRefusedRatherThanFedTokenIds() {
    OnnxModel model = withExtraInput(SyntheticBert.build(CLASSIFIER), "position_ids");
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> ClassifierSignature.of(model, Optional.empty()));
    assertTrue(e.getMessage().endsWith(": input 'position_ids' takes positions, which eval does not feed;"
        + " export the model with positions computed inside the graph"), e.getMessage());
  }

  @Test
  void twoInputsOfOneRoleAreRefused() {
    OnnxModel model = withExtraInput(SyntheticBert.build(CLASSIFIER), "segment_ids");
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> ClassifierSignature.of(model, Optional.empty()));
    assertTrue(e.getMessage().endsWith(": inputs 'token_type_ids' and 'segment_ids' both look like token_type_ids;"
        + " eval feeds each tokenizer output to one input"), e.getMessage());
  }

  @Test
  void theLogitsOutputMustExist() {
    OnnxModel encoder = OnnxModel.of(SyntheticBert.build(Spec.tiny(2)));
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> ClassifierSignature.of(encoder, Optional.empty()));
    assertTrue(e.getMessage().contains("no logits output: expected an output named 'logits' or exactly one 2-D float output, found"
        + " [last_hidden_state float [batch_size, sequence_length, 16]] (is this an encoder without a classifier head?"
        + " 'onnx-skip probe' trains one)"), e.getMessage());
    UsageException named = assertThrows(UsageException.class,
        () -> ClassifierSignature.of(OnnxModel.of(SyntheticBert.build(CLASSIFIER)), Optional.of("scores")));
    assertEquals("--logits-output: the model has no output 'scores'; its outputs are [logits]", named.getMessage());
  }

  @Test
  void devicesParseAsTheUserWritesThem() {
    assertEquals(Device.CPU, Device.parse(" CPU "));
    assertEquals(new Device(Device.Kind.CUDA, 0), Device.parse("cuda"));
    assertEquals("cuda:1", Device.parse("CUDA:1").toString());
    assertEquals("auto", Device.parse("auto").toString());
    assertEquals("unknown device 'gpu': expected cpu, cuda, cuda:N or auto",
        assertThrows(UsageException.class, () -> Device.parse("gpu")).getMessage());
    assertEquals("unknown device 'cuda:99999999999': the CUDA device number is too large",
        assertThrows(UsageException.class, () -> Device.parse("cuda:99999999999")).getMessage());
  }
}
