package dev.onnxskip.cli;

import dev.onnxskip.UsageException;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.probe.ProbeRun;
import dev.onnxskip.rewrite.Pooling;
import dev.onnxskip.rewrite.SharedWeights;
import dev.onnxskip.runtime.OrtRuntime;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code onnx-skip probe}: turn an encoder into a classifier with a trained linear head. */
@Command(
    name = "probe",
    mixinStandardHelpOptions = true,
    description = {
      "Train a linear probe (logistic regression) on a frozen encoder and write encoder + head as one classifier ONNX.",
      "The result has a 'logits' output and id2label metadata, so eval and rewrite take it like any fine-tuned model."
    })
public final class ProbeCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, paramLabel = "ENCODER.onnx", description = "An encoder with a last_hidden_state output.")
  Path model;

  @Mixin TokenizerOptions tokenizer;

  @Option(names = "--train", required = true, paramLabel = "FILE", description = "Labelled training data: .jsonl, .json (an array of objects), .csv or .tsv.")
  Path train;

  @Mixin DataOptions dataOptions;

  @Option(names = "--labels", split = ",", paramLabel = "NAME,...", description = "Label names in logit order (default: the data's labels, sorted).")
  List<String> labels = List.of();

  @Option(names = "--pooling", defaultValue = "mean", paramLabel = "POOLING",
      converter = LowerCaseChoice.Poolings.class, completionCandidates = LowerCaseChoice.Poolings.class,
      description = "One of ${COMPLETION-CANDIDATES}: the mean over real tokens, or the first token (default: ${DEFAULT-VALUE}).")
  Pooling pooling;

  @Option(names = "--c", defaultValue = "1.0", paramLabel = "C|auto",
      description = "Inverse L2 regularisation strength, or auto: chosen by 5-fold cross-validation on the training data"
          + " (default: ${DEFAULT-VALUE}).")
  String c;

  @Option(names = "--dev", paramLabel = "FILE",
      description = "Labelled data to report the held-out accuracy on (default: 20%% of --train, held out by a fixed seed).")
  Path dev;

  @Mixin RuntimeOptions runtime;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "CLASSIFIER.onnx", description = "Where to write the classifier.")
  Path output;

  @Option(names = "--force", description = "Replace an existing output.")
  boolean force;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  /** A training accuracy this far above the held-out one is worth a warning. */
  private static final double OVERFIT_GAP = 0.1;

  /** C as given, or empty for auto. */
  private OptionalDouble parsedC() {
    if (c.strip().equalsIgnoreCase("auto")) {
      return OptionalDouble.empty();
    }
    try {
      double value = Double.parseDouble(c.strip());
      if (value > 0 && Double.isFinite(value)) {
        return OptionalDouble.of(value);
      }
    } catch (NumberFormatException e) {
      // Said below, as for a value out of range.
    }
    throw new UsageException("--c must be a positive number or 'auto', got '" + c + "'");
  }

  @Override
  public Integer call() throws Exception {
    int maxLength = tokenizer.maxLength();
    int batchSize = runtime.batchSize();
    int threads = runtime.threads();
    OptionalDouble parsedC = parsedC();
    OutputPolicy policy = new OutputPolicy(model, force);
    policy.checkFile(output, "probe writes one classifier file");
    OnnxModel encoder = ModelIO.load(model);
    policy.refuseInputs(ExternalData.files(encoder), List.of(output));
    OrtRuntime rt = OrtRuntime.open(runtime.parsedDevice(), threads);
    rt.fallback().ifPresent(warning -> Warnings.print(spec.commandLine().getErr(), warning));
    ProbeRun.Outcome o = ProbeRun.train(encoder, tokenizer.tokenizer, train, Optional.ofNullable(dev), dataOptions.columns(), labels,
        new ProbeRun.Settings(pooling, maxLength, parsedC, batchSize), rt);
    ModelIO.save(SharedWeights.forFile(o.classifier(), output), output);
    PrintWriter out = spec.commandLine().getOut();
    String chosenBy = o.chosen().map(ch -> String.format(Locale.ROOT, " (chosen by %d-fold cross-validation, accuracy %.4f)", ch.folds(),
        ch.accuracy())).orElse("");
    out.printf("probe: %d examples, labels %s, %s pooling, C=%s%s%n", o.examples(), o.labels(), pooling.name().toLowerCase(Locale.ROOT),
        o.c(), chosenBy);
    out.printf("features: %.1f s on %s; training: %.2f s; training accuracy %.4f%n", o.featureSeconds(), rt.note(),
        o.probe().seconds(), o.probe().trainAccuracy());
    PrintWriter err = spec.commandLine().getErr();
    if (o.heldOut().isPresent()) {
      ProbeRun.HeldOut h = o.heldOut().get();
      out.printf(Locale.ROOT, "held-out accuracy %.4f on %d examples of %s%n", h.accuracy(), h.examples(), h.source());
      if (o.probe().trainAccuracy() - h.accuracy() > OVERFIT_GAP) {
        Warnings.print(err, String.format(Locale.ROOT, "training accuracy %.4f but held-out %.4f: the head fits its training data far"
            + " better than new data; try --c auto, a smaller --c or more training data", o.probe().trainAccuracy(), h.accuracy()));
      }
    } else {
      Warnings.print(err, "no held-out accuracy: the training data has too few examples of some label to hold any out; give --dev");
    }
    out.printf("wrote %s%n", output);
    out.flush();
    return 0;
  }
}
