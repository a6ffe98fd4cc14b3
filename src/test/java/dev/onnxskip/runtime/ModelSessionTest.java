package dev.onnxskip.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.rewrite.SkipRewriter;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.testing.SyntheticBert;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A session whose large weights go to ONNX Runtime as buffers computes what a session loaded from
 * the model file computes, on the real float and int8 MiniLM; small weights stay in the bytes;
 * the session copies the buffers, and keeps its options until it closes; variants of one source
 * reuse its buffers.
 */
class ModelSessionTest {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  private static final OrtRuntime CPU = OrtRuntime.open(Device.CPU, 1);
  private static final long[][] IDS = {{101, 7592, 2088, 2003, 1037, 3231, 102, 0}, {101, 2023, 3185, 2001, 6659, 1010, 2204, 102}};
  private static final long[][] MASK = {{1, 1, 1, 1, 1, 1, 1, 0}, {1, 1, 1, 1, 1, 1, 1, 1}};

  @ParameterizedTest
  @ValueSource(strings = {"models/minilm-l6/model.onnx", "models/minilm-l6-q/model.onnx"})
  void givesTheTokenStatesOfTheModelLoadedFromItsFile(String file) throws Exception {
    Path path = Path.of(file);
    OnnxModel model = ModelIO.load(path);
    float[] expected;
    try (OrtSession.SessionOptions opts = CPU.sessionOptions(); OrtSession fromFile = ENV.createSession(path.toString(), opts)) {
      expected = lastHiddenState(fromFile);
    }
    try (ModelSession session = ModelSession.open(model, CPU)) {
      Set<String> big = model.proto().getGraph().getInitializerList().stream()
          .filter(t -> t.getRawData().size() >= WeightBuffers.HANDED_OVER_BYTES).map(TensorProto::getName)
          .collect(Collectors.toCollection(TreeSet::new));
      assertTrue(big.stream().anyMatch(n -> n.startsWith("embeddings.word_embeddings.weight")), "the token-embedding table is large: " + big);
      assertEquals(big, new TreeSet<>(session.handedOver()));
      float[] actual = lastHiddenState(session.session());
      assertEquals(expected.length, actual.length);
      for (int i = 0; i < expected.length; i++) {
        assertEquals(expected[i], actual[i], 1e-5, "element " + i);
      }
    }
  }

  @Test
  void smallWeightsAreNeverHandedOver() throws Exception {
    OnnxModel tiny = OnnxModel.of(SyntheticBert.build(SyntheticBert.Spec.tiny(2)));
    try (ModelSession session = ModelSession.open(tiny, CPU)) {
      assertTrue(session.handedOver().isEmpty(), "a tiny model's weights stay in its bytes");
    }
  }

  @Test
  void theSessionCopiesTheHandedOverWeightsSoTheBuffersMayGoOnceItIsOpen() throws Exception {
    // A vocabulary that takes the test's token ids.
    OnnxModel wide = OnnxModel.of(SyntheticBert.build(SyntheticBert.Spec.tiny(2).withHidden(128).withIntermediate(512).withVocab(8000)));
    float[] expected;
    try (OrtSession.SessionOptions opts = CPU.sessionOptions(); OrtSession plain = ENV.createSession(wide.proto().toByteArray(), opts)) {
      expected = lastHiddenState(plain);
    }
    ModelSession session;
    try (WeightBuffers buffers = new WeightBuffers()) {
      session = ModelSession.open(wide, CPU, buffers);
      assertFalse(session.handedOver().isEmpty(), "a 128x512 weight is 256 KiB and is handed over");
      // Overwrite every handed-over weight before closing the buffers: a session that read them in
      // place would now compute with floats near 3e38.
      for (TensorProto t : wide.proto().getGraph().getInitializerList()) {
        if (session.handedOver().contains(t.getName())) {
          ByteBuffer bytes = (ByteBuffer) buffers.bufferOf(t).orElseThrow().getBufferRef().orElseThrow();
          for (int i = 0; i < bytes.capacity(); i++) {
            bytes.put(i, (byte) 0x7f);
          }
        }
      }
    }
    try (session) {
      assertArrayEquals(expected, lastHiddenState(session.session()), 1e-5f);
    }
  }

  @Test
  void theSessionKeepsItsOptionsUntilItCloses() throws Exception {
    ModelSession session = ModelSession.open(OnnxModel.of(SyntheticBert.build(SyntheticBert.Spec.tiny(2))), CPU);
    OrtSession.SessionOptions options = session.options();
    // Any use of closed options throws IllegalStateException.
    assertDoesNotThrow(options::getConfigEntries);
    session.close();
    assertThrows(IllegalStateException.class, options::getConfigEntries);
  }

  @Test
  void variantsOfOneSourceShareOneSetOfBuffers() throws Exception {
    OnnxModel source = ModelIO.load(Path.of("models/minilm-l6/model.onnx"));
    EncoderLayout layout = LayoutDetector.detect(source);
    float[] baseline;
    try (OrtSession.SessionOptions opts = CPU.sessionOptions(); OrtSession fromFile = ENV.createSession("models/minilm-l6/model.onnx", opts)) {
      baseline = lastHiddenState(fromFile);
    }
    try (WeightBuffers buffers = new WeightBuffers()) {
      int sourceWeights;
      try (ModelSession whole = ModelSession.open(source, CPU, buffers)) {
        sourceWeights = buffers.bufferCount();
        assertEquals(whole.handedOver().size(), sourceWeights);
        assertArrayEquals(baseline, lastHiddenState(whole.session()), 1e-5f);
      }
      for (SkipSpan span : List.of(new SkipSpan(0, 0), new SkipSpan(1, 4), new SkipSpan(5, 5))) {
        OnnxModel variant = SkipRewriter.variant(source, layout, span, "test");
        float[] expected;
        try (OrtSession.SessionOptions opts = CPU.sessionOptions(); OrtSession plain = ENV.createSession(variant.proto().toByteArray(), opts)) {
          expected = lastHiddenState(plain);
        }
        try (ModelSession s = ModelSession.open(variant, CPU, buffers)) {
          assertFalse(s.handedOver().isEmpty());
          assertEquals(sourceWeights, buffers.bufferCount(), "skipping " + span + " made no new buffers");
          assertArrayEquals(expected, lastHiddenState(s.session()), 1e-5f, "skipping " + span);
        }
      }
      // Why reuse is cheap: a variant's weights are the source's very ByteString objects.
      TensorProto table = source.proto().getGraph().getInitializerList().stream()
          .filter(t -> t.getName().equals("embeddings.word_embeddings.weight")).findFirst().orElseThrow();
      TensorProto inVariant = SkipRewriter.variant(source, layout, new SkipSpan(2, 2), "test").proto().getGraph().getInitializerList()
          .stream().filter(t -> t.getName().equals(table.getName())).findFirst().orElseThrow();
      assertSame(table.getRawData(), inVariant.getRawData());
    }
  }

  private static float[] lastHiddenState(OrtSession session) throws OrtException {
    Map<String, OnnxTensor> feeds = new HashMap<>();
    try {
      feeds.put("input_ids", OnnxTensor.createTensor(ENV, IDS));
      feeds.put("attention_mask", OnnxTensor.createTensor(ENV, MASK));
      feeds.put("token_type_ids", OnnxTensor.createTensor(ENV, new long[IDS.length][IDS[0].length]));
      try (OrtSession.Result result = session.run(feeds, Set.of("last_hidden_state"))) {
        FloatBuffer states = ((OnnxTensor) result.get(0)).getFloatBuffer();
        float[] values = new float[states.remaining()];
        states.get(values);
        return values;
      }
    } finally {
      feeds.values().forEach(OnnxTensor::close);
    }
  }
}
