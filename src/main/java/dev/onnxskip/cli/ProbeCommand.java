package dev.onnxskip.cli;

import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.probe.ProbeRun;
import dev.onnxskip.rewrite.Pooling;
import dev.onnxskip.runtime.OrtRuntime;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
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

  @Option(names = "--c", defaultValue = "1.0", description = "Inverse L2 regularisation strength (default: ${DEFAULT-VALUE}).")
  double c;

  @Mixin RuntimeOptions runtime;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "CLASSIFIER.onnx", description = "Where to write the classifier.")
  Path output;

  @Option(names = "--force", description = "Replace an existing output.")
  boolean force;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    int maxLength = tokenizer.maxLength();
    int batchSize = runtime.batchSize();
    int threads = runtime.threads();
    OutputPolicy policy = new OutputPolicy(model, force);
    policy.checkFile(output, "probe writes one classifier file");
    OnnxModel encoder = ModelIO.load(model);
    policy.refuseInputs(ExternalData.files(encoder), List.of(output));
    OrtRuntime rt = OrtRuntime.open(runtime.parsedDevice(), threads);
    rt.fallback().ifPresent(warning -> Warnings.print(spec.commandLine().getErr(), warning));
    ProbeRun.Outcome o = ProbeRun.train(encoder, tokenizer.tokenizer, train, dataOptions.columns(), labels, pooling,
        maxLength, c, rt, batchSize);
    ModelIO.save(o.classifier().proto(), output);
    PrintWriter out = spec.commandLine().getOut();
    out.printf("probe: %d examples, labels %s, %s pooling, C=%s%n", o.examples(), o.labels(), pooling.name().toLowerCase(Locale.ROOT), c);
    out.printf("features: %.1f s on %s; training: %.2f s; training accuracy %.4f%n", o.featureSeconds(), rt.note(),
        o.probe().seconds(), o.probe().trainAccuracy());
    out.printf("wrote %s%n", output);
    out.flush();
    return 0;
  }
}
