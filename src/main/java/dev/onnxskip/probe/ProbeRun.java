package dev.onnxskip.probe;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.data.Batch;
import dev.onnxskip.data.BatchPlan;
import dev.onnxskip.data.BatchSource;
import dev.onnxskip.data.DataColumns;
import dev.onnxskip.data.EncodedDataset;
import dev.onnxskip.data.LabelSet;
import dev.onnxskip.data.LabelledData;
import dev.onnxskip.data.TextEncoder;
import dev.onnxskip.data.TokenRole;
import dev.onnxskip.graph.ElementType;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorInfo;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.rewrite.HeadWriter;
import dev.onnxskip.rewrite.Pooling;
import dev.onnxskip.runtime.ClassifierSignature;
import dev.onnxskip.runtime.ModelSession;
import dev.onnxskip.runtime.OrtErrors;
import dev.onnxskip.runtime.OrtRuntime;
import dev.onnxskip.runtime.TokenFeeds;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Trains a linear probe on a frozen encoder and writes encoder + head as one classifier ONNX:
 * the encoder runs once over the training set, its token states are pooled, and a logistic
 * regression learns the head.
 */
public final class ProbeRun {

  /** What a probe run produced. */
  public record Outcome(OnnxModel classifier, LinearProbe probe, List<String> labels, int examples, double featureSeconds) {}

  private ProbeRun() {}

  /**
   * @param labels label names in logit order; empty to use the sorted distinct labels of the data
   */
  public static Outcome train(OnnxModel encoder, Path tokenizer, Path trainData, DataColumns columns, List<String> labels,
      Pooling pooling, int maxLength, double c, OrtRuntime runtime, int batchSize) {
    List<ClassifierSignature.TokenInput> inputs = ClassifierSignature.tokenInputs(encoder);
    String tokenStates = tokenStatesOutput(encoder);
    String mask = inputs.stream().filter(i -> i.role() == TokenRole.ATTENTION_MASK).findFirst()
        .map(ClassifierSignature.TokenInput::name)
        .orElseThrow(() -> new OnnxSkipException(encoder.describe() + ": the encoder has no attention_mask input to pool with"));
    LabelledData data = LabelledData.read(trainData, columns);
    List<String> names = labels.isEmpty()
        ? List.copyOf(new TreeSet<>(data.examples().stream().map(e -> e.label()).toList()))
        : labels;
    LabelSet labelSet = LabelSet.of(names);
    int[] gold = labelSet.goldIndices(data);
    ClassifierSignature.FixedDims fixed = ClassifierSignature.fixedDims(encoder);
    fixed.check(encoder.describe(), batchSize, maxLength, data.size());
    EncodedDataset encoded;
    try (TextEncoder textEncoder = TextEncoder.open(tokenizer, maxLength)) {
      textEncoder.checkVocabulary(LayoutDetector.vocabularySize(encoder), encoder.describe());
      encoded = textEncoder.encode(data);
    }
    encoded.checkFits(LayoutDetector.maxPositions(encoder), data);
    long start = System.nanoTime();
    BatchPlan plan = fixed.sequence().isPresent()
        ? BatchPlan.padded(encoded, batchSize, BatchPlan.Order.LONGEST_FIRST, Math.toIntExact(fixed.sequence().getAsLong()))
        : BatchPlan.of(encoded, batchSize);
    float[][] features = features(encoder, inputs, tokenStates, pooling, plan, runtime, encoder.describe());
    double featureSeconds = (System.nanoTime() - start) / 1e9;
    LinearProbe probe = LinearProbe.train(features, gold, names.size(), c);
    OnnxModel classifier = HeadWriter.append(encoder, tokenStates, mask, pooling, probe.weights(), probe.bias(), names);
    return new Outcome(classifier, probe, names, data.size(), featureSeconds);
  }

  /** The encoder's token-state output: {@code last_hidden_state}, or its only 3-D float output. */
  static String tokenStatesOutput(OnnxModel encoder) {
    List<TensorInfo> outputs = encoder.outputs();
    Optional<TensorInfo> named = outputs.stream().filter(o -> o.name().equals("last_hidden_state")).findFirst();
    if (named.isPresent()) {
      return named.get().name();
    }
    List<TensorInfo> threeD = outputs.stream()
        .filter(o -> o.elementType() == ElementType.FLOAT && o.dims().size() == 3)
        .toList();
    if (threeD.size() != 1) {
      throw new OnnxSkipException(encoder.describe() + ": expected an encoder with a 'last_hidden_state' output or one 3-D float output, found "
          + outputs.stream().map(o -> o.name() + " " + o.description()).toList());
    }
    return threeD.get(0).name();
  }

  /** Pooled token states of every example, in dataset order. */
  static float[][] features(OnnxModel encoder, List<ClassifierSignature.TokenInput> inputs, String tokenStates, Pooling pooling,
      BatchSource batches, OrtRuntime runtime, String label) {
    float[][] features = new float[batches.exampleCount()][];
    try (ModelSession opened = ModelSession.open(encoder, runtime)) {
      OrtSession session = opened.session();
      for (int b = 0; b < batches.batchCount(); b++) {
        Batch batch = batches.batch(b);
        Map<String, OnnxTensor> feeds = TokenFeeds.create(inputs, session.getInputNames(), batch, 1);
        try (OrtSession.Result result = session.run(feeds, java.util.Set.of(tokenStates))) {
          OnnxTensor states = (OnnxTensor) result.get(0);
          long[] shape = states.getInfo().getShape();
          FloatBuffer fb = states.getFloatBuffer();
          float[] flat = new float[fb.remaining()];
          fb.get(flat);
          float[][] pooled = pooling.pool(flat, batch.mask(), batch.batchSize(), batch.seqLen(), (int) shape[2]);
          for (int r = 0; r < batch.batchSize(); r++) {
            features[batch.exampleIndices()[r]] = pooled[r];
          }
        } finally {
          feeds.values().forEach(OnnxTensor::close);
        }
      }
    } catch (OrtException e) {
      throw new OnnxSkipException("ONNX Runtime failed running the encoder " + label + ": " + OrtErrors.oneLine(e.getMessage()), e);
    }
    return features;
  }
}
