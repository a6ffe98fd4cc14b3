package dev.onnxskip.cli;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.UsageException;
import dev.onnxskip.data.LabelSet;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.rewrite.SkipSpans;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.ClassifierSignature;
import dev.onnxskip.rewrite.StaticShapes;
import dev.onnxskip.rewrite.Validator;
import dev.onnxskip.rewrite.VariantFiles;
import dev.onnxskip.rewrite.VariantWriter;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code onnx-skip rewrite}: emit one standalone model per skip span. */
@Command(
    name = "rewrite",
    mixinStandardHelpOptions = true,
    description = {
      "Emit models with spans of encoder layers replaced by the identity.",
      "Layers are numbered from 0; spans are inclusive: 2-3 skips layers 2 and 3."
    })
public final class RewriteCommand implements Callable<Integer> {

  @Parameters(paramLabel = "MODEL", description = "The source ONNX model.")
  Path model;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Selection selection;

  static final class Selection {
    @Option(names = "--span", paramLabel = "S-E", description = "Emit one variant; -o names the file.")
    String span;

    @Option(names = "--spans", paramLabel = "S-E,...", description = "Emit one variant per listed span; -o names a folder.")
    String spans;

    @Option(names = "--all-spans", description = "Emit every contiguous span (L(L+1)/2 files) and manifest.json; -o names a folder.")
    boolean all;

    @Option(names = "--baseline", description = "With --hf-dir: the unmodified model, for comparison with its variants.")
    boolean baseline;
  }

  @Option(names = {"-o", "--output"}, paramLabel = "OUT", description = "Output file (--span) or folder.")
  Path output;

  @Option(names = "--hf-dir", paramLabel = "DIR", description = "Instead of -o: write a Hugging Face-style model folder of --span"
      + " (or --baseline): onnx/model.onnx, config.json and the tokenizer's files.")
  Path hfDir;

  @Option(names = "--labels", split = ",", paramLabel = "NAME,...", description = "With --hf-dir: label names in logit order for a"
      + " config.json made here (default: the model's id2label, else the logit indices).")
  List<String> labels = List.of();

  @Mixin ModelFolderOptions folderOptions;

  @Option(names = "--external-data", description = "Write all variants against one shared weights file instead of inlining weights.")
  boolean externalData;

  @Option(names = "--force", description = "Replace existing outputs.")
  boolean force;

  @Option(names = "--validate", description = "Check every variant as the validate command does; a variant that fails is removed and the run stops.")
  boolean validate;

  @Option(names = "--static-shapes", paramLabel = "batch=N,sequence=N",
      description = "Fix the input dimensions and fold the shape arithmetic that becomes constant, for runtimes that want static shapes (OpenCV, TensorRT, mobile).")
  String staticShapes;

  @Mixin LayoutOptions layoutOptions;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (hfDir != null) {
      return writeModelFolder();
    }
    if (selection.baseline) {
      throw new UsageException("--baseline needs --hf-dir: the unmodified model is already the input file");
    }
    if (output == null) {
      throw new UsageException("missing -o: the file (--span) or folder (--spans, --all-spans) to write");
    }
    boolean single = selection.span != null;
    SkipSpans.checkText(single ? selection.span : selection.all ? "all" : selection.spans);
    Optional<StaticShapes.Dims> dims = Optional.ofNullable(staticShapes).map(StaticShapes.Dims::parse);
    OutputPolicy policy = new OutputPolicy(model, force);
    if (single) {
      policy.checkFile(output, "--span writes one file");
    } else {
      policy.checkFolder(output, "--spans and --all-spans write a folder");
    }
    VariantFiles.nearestExistingFolder(single ? output.toAbsolutePath().getParent() : output, output);

    OnnxModel loaded = ModelIO.load(model);
    OnnxModel source = dims.map(d -> StaticShapes.apply(loaded, d)).orElse(loaded);
    EncoderLayout layout = LayoutDetector.detect(source, layoutOptions.boundaries);
    VariantFiles files = single
        ? VariantFiles.single(SkipSpans.parseOne(selection.span, layout.layers()), output, externalData)
        : VariantFiles.folder(SkipSpans.parse(selection.all ? "all" : selection.spans, layout.layers()), layout.layers(), output, model,
            externalData);
    List<Path> outputs = new ArrayList<>(List.of(output)); // in folder mode, the folder itself
    files.outputs().stream().filter(p -> !p.equals(output)).map(Path::normalize).forEach(outputs::add);
    policy.refuseInputs(ExternalData.files(source), outputs);

    PrintWriter out = spec.commandLine().getOut();
    try {
      VariantFiles.Result result = files.write(source, layout, model, validate, w -> {
        out.printf("skip %-6s %s  %d nodes, %,d parameters, %s%n", w.span(), w.file(), w.nodes(), w.parameters(),
            InspectCommand.humanBytes(w.bytes()));
        out.flush();
      });
      int count = result.written().size();
      if (validate) {
        out.printf("%s valid ONNX (%s)%n", count == 1 ? "the variant is" : "all " + count + " variants are", Validator.checker());
        if (!result.uncheckedOps().isEmpty()) {
          out.printf("note: %s have no ONNX schema; the checker verified their structure only%n",
              String.join(", ", result.uncheckedOps()));
        }
      }
      files.folder().ifPresent(dir -> out.printf("wrote %d variants and %s to %s%n", count, VariantWriter.MANIFEST, dir));
    } finally {
      out.flush();
    }
    return 0;
  }

  private int writeModelFolder() {
    if (output != null) {
      throw new UsageException("--hf-dir and -o both name the output; give one");
    }
    if (selection.spans != null || selection.all) {
      throw new UsageException("--hf-dir writes one model: give --span S-E or --baseline");
    }
    if (selection.span != null) {
      SkipSpans.checkText(selection.span);
    }
    if (externalData || staticShapes != null || validate) {
      throw new UsageException("--hf-dir writes one inline model as it is; --external-data, --static-shapes and --validate apply to -o");
    }
    folderOptions.check("--hf-dir");
    OutputPolicy policy = new OutputPolicy(model, force);
    policy.checkFolder(hfDir, "--hf-dir writes a folder");
    ModelFolderOptions.refuseSourceInside(hfDir, model);
    OnnxModel source = ModelIO.load(model);
    EncoderLayout layout = LayoutDetector.detect(source, layoutOptions.boundaries);
    Variant variant = selection.baseline ? Variant.BASELINE : SkipSpans.parseOne(selection.span, layout.layers());
    folderOptions.write(source, layout, variant, model, labelNames(source), OptionalInt.empty(), hfDir, force, spec.commandLine().getOut());
    return 0;
  }

  /**
   * The labels of a classifier, for a config.json made here: --labels, else the model's own, else its
   * logit indices; none for an encoder without logits (a feature-extraction folder).
   */
  private List<String> labelNames(OnnxModel source) {
    OptionalInt width;
    try {
      ClassifierSignature signature = ClassifierSignature.of(source, Optional.empty());
      width = signature.logitsWidth() > 0 ? OptionalInt.of((int) signature.logitsWidth()) : OptionalInt.empty();
    } catch (OnnxSkipException e) {
      return labels;
    }
    return LabelSet.resolve(labels, LabelSet.ModelLabels.KEEP, source.metadata(), model, width).names();
  }
}
