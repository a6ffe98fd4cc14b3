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
import dev.onnxskip.graph.Digests;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Trains a linear probe on a frozen encoder and writes encoder + head as one classifier ONNX:
 * the encoder runs once over the training set, its token states are pooled, and a logistic
 * regression learns the head.
 */
public final class ProbeRun {

  /**
   * How to train the probe.
   *
   * @param c the inverse regularisation strength; empty to choose it by cross-validation
   */
  public record Settings(Pooling pooling, int maxLength, OptionalDouble c, int batchSize) {}

  /**
   * The head's accuracy on examples it was not trained on.
   *
   * @param source where those examples came from, for the user and the classifier's metadata
   */
  public record HeldOut(String source, int examples, double accuracy) {}

  /**
   * What a probe run produced.
   *
   * @param c the C the head was trained with
   * @param chosen how cross-validation chose it, when it did
   * @param heldOut the held-out accuracy, unless the data is too small to hold any out
   */
  public record Outcome(OnnxModel classifier, LinearProbe probe, List<String> labels, int examples, double featureSeconds, double c,
      Optional<LinearProbe.ChosenC> chosen, Optional<HeldOut> heldOut) {}

  /** Folds of the cross-validation that chooses C. */
  static final int FOLDS = 5;

  /** The share of the training data held out when no development set is given. */
  static final double HELD_OUT_SHARE = 0.2;

  private ProbeRun() {}

  /**
   * @param labels label names in logit order; empty to use the sorted distinct labels of the data
   * @param devData labelled data to measure the held-out accuracy on; empty to hold out a fixed
   *     share of the training data, measured with a head trained on the rest (the classifier's
   *     head is trained on all of it either way)
   */
  public static Outcome train(OnnxModel encoder, Path tokenizer, Path trainData, Optional<Path> devData, DataColumns columns,
      List<String> labels, Settings settings, OrtRuntime runtime) {
    List<ClassifierSignature.TokenInput> inputs = ClassifierSignature.tokenInputs(encoder);
    String tokenStates = tokenStatesOutput(encoder);
    String mask = inputs.stream().filter(i -> i.role() == TokenRole.ATTENTION_MASK).findFirst()
        .map(ClassifierSignature.TokenInput::name)
        .orElseThrow(() -> new OnnxSkipException(encoder.describe() + ": the encoder has no attention_mask input to pool with"));
    LabelledData data = LabelledData.read(trainData, columns);
    Optional<LabelledData> dev = devData.map(d -> LabelledData.read(d, columns));
    List<String> names = labels.isEmpty()
        ? List.copyOf(new TreeSet<>(data.examples().stream().map(e -> e.label()).toList()))
        : labels;
    LabelSet labelSet = LabelSet.of(names);
    int[] gold = labelSet.goldIndices(data);
    Optional<int[]> devGold = dev.map(labelSet::goldIndices);
    ClassifierSignature.FixedDims fixed = ClassifierSignature.fixedDims(encoder);
    fixed.check(encoder.describe(), settings.batchSize(), settings.maxLength(), data.size());
    dev.ifPresent(d -> fixed.check(encoder.describe(), settings.batchSize(), settings.maxLength(), d.size()));
    EncodedDataset encoded;
    Optional<EncodedDataset> devEncoded;
    try (TextEncoder textEncoder = TextEncoder.open(tokenizer, settings.maxLength())) {
      textEncoder.checkVocabulary(LayoutDetector.vocabularySize(encoder), encoder.describe());
      encoded = textEncoder.encode(data);
      devEncoded = dev.map(textEncoder::encode);
    }
    encoded.checkFits(LayoutDetector.maxPositions(encoder), data);
    dev.ifPresent(d -> devEncoded.get().checkFits(LayoutDetector.maxPositions(encoder), d));
    long start = System.nanoTime();
    Features pooled = new Features(encoder, inputs, tokenStates, settings, fixed, runtime);
    float[][] features = pooled.of(encoded);
    Optional<float[][]> devFeatures = devEncoded.map(pooled::of);
    double featureSeconds = (System.nanoTime() - start) / 1e9;

    Optional<LinearProbe.ChosenC> chosen = settings.c().isPresent()
        ? Optional.empty()
        : Optional.of(LinearProbe.chooseC(features, gold, FOLDS));
    double c = chosen.map(LinearProbe.ChosenC::c).orElseGet(() -> settings.c().getAsDouble());
    LinearProbe probe = LinearProbe.train(features, gold, names.size(), c);
    Optional<HeldOut> heldOut = devFeatures.isPresent()
        ? Optional.of(new HeldOut("--dev " + devData.get().getFileName() + " (sha256 " + Digests.sha256(devData.get()) + ")",
            devGold.get().length, probe.accuracy(devFeatures.get(), devGold.get())))
        : heldOutOfTraining(features, gold, names.size(), c);
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("onnx_skip.probe.pooling", settings.pooling().name().toLowerCase(Locale.ROOT));
    metadata.put("onnx_skip.probe.c", Double.toString(c));
    metadata.put("onnx_skip.probe.c_chosen_by", chosen.map(ch -> String.format(Locale.ROOT, "%d-fold cross-validation (accuracy %.4f)",
        ch.folds(), ch.accuracy())).orElse("--c"));
    metadata.put("onnx_skip.probe.max_length", Integer.toString(settings.maxLength()));
    metadata.put("onnx_skip.probe.train_sha256", Digests.sha256(trainData));
    metadata.put("onnx_skip.probe.train_examples", Integer.toString(data.size()));
    metadata.put("onnx_skip.probe.train_accuracy", String.format(Locale.ROOT, "%.4f", probe.trainAccuracy()));
    heldOut.ifPresent(h -> {
      metadata.put("onnx_skip.probe.heldout_accuracy", String.format(Locale.ROOT, "%.4f", h.accuracy()));
      metadata.put("onnx_skip.probe.heldout", h.examples() + " examples of " + h.source());
    });
    OnnxModel classifier = HeadWriter.append(encoder, tokenStates, mask, settings.pooling(), probe.weights(), probe.bias(), names)
        .withMetadata(metadata);
    return new Outcome(classifier, probe, names, data.size(), featureSeconds, c, chosen, heldOut);
  }

  /**
   * The accuracy on a fixed share of the training data of a head trained on the rest. The share is
   * drawn per label from a fixed seed, so every label is held out in proportion and the estimate is
   * the same every run; empty when a label has too few examples to hold any out.
   */
  static Optional<HeldOut> heldOutOfTraining(float[][] features, int[] gold, int labels, double c) {
    Map<Integer, List<Integer>> byLabel = new TreeMap<>();
    for (int i = 0; i < gold.length; i++) {
      byLabel.computeIfAbsent(gold[i], k -> new ArrayList<>()).add(i);
    }
    Random random = new Random(0);
    Set<Integer> held = new TreeSet<>();
    for (List<Integer> rows : byLabel.values()) {
      int share = (int) Math.round(rows.size() * HELD_OUT_SHARE);
      if (share < 1 || share == rows.size()) {
        return Optional.empty();
      }
      List<Integer> shuffled = new ArrayList<>(rows);
      Collections.shuffle(shuffled, random);
      held.addAll(shuffled.subList(0, share));
    }
    List<Integer> rest = new ArrayList<>();
    for (int i = 0; i < gold.length; i++) {
      if (!held.contains(i)) {
        rest.add(i);
      }
    }
    if (rest.stream().map(i -> gold[i]).distinct().count() < 2) {
      return Optional.empty();
    }
    LinearProbe partial = LinearProbe.train(rows(features, rest), rest.stream().mapToInt(i -> gold[i]).toArray(), labels, c);
    List<Integer> heldRows = List.copyOf(held);
    double accuracy = partial.accuracy(rows(features, heldRows), heldRows.stream().mapToInt(i -> gold[i]).toArray());
    return Optional.of(new HeldOut(String.format(Locale.ROOT, "the training data held out (%.0f%%, a head trained on the rest)",
        HELD_OUT_SHARE * 100), heldRows.size(), accuracy));
  }

  private static float[][] rows(float[][] features, List<Integer> indices) {
    return indices.stream().map(i -> features[i]).toArray(float[][]::new);
  }

  /** Pools the encoder's token states of encoded examples, batched as the encoder's inputs allow. */
  private record Features(OnnxModel encoder, List<ClassifierSignature.TokenInput> inputs, String tokenStates, Settings settings,
      ClassifierSignature.FixedDims fixed, OrtRuntime runtime) {

    float[][] of(EncodedDataset encoded) {
      BatchPlan plan = fixed.sequence().isPresent()
          ? BatchPlan.padded(encoded, settings.batchSize(), BatchPlan.Order.LONGEST_FIRST, Math.toIntExact(fixed.sequence().getAsLong()))
          : BatchPlan.of(encoded, settings.batchSize());
      return features(encoder, inputs, tokenStates, settings.pooling(), plan, runtime, encoder.describe());
    }
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
