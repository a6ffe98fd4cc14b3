package dev.onnxskip.cli;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.UsageException;
import dev.onnxskip.graph.Digests;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.SkipSpans;
import dev.onnxskip.rewrite.StaticShapes;
import dev.onnxskip.rewrite.Validator;
import dev.onnxskip.rewrite.VariantWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
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
  }

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT", description = "Output file (--span) or folder.")
  Path output;

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
    Optional<StaticShapes.Dims> dims = Optional.ofNullable(staticShapes).map(StaticShapes.Dims::parse);
    OnnxModel loaded = ModelIO.load(model);
    OnnxModel source = dims.map(d -> StaticShapes.apply(loaded, d)).orElse(loaded);
    EncoderLayout layout = LayoutDetector.detect(source, layoutOptions.boundaries);
    boolean single = selection.span != null;
    List<SkipSpan> spans = single
        ? List.of(SkipSpans.parseOne(selection.span, layout.layers()))
        : SkipSpans.parse(selection.all ? "all" : selection.spans, layout.layers());
    checkOutput(single);
    String sha = Digests.sha256(model);
    Path dir = single ? output.toAbsolutePath().getParent() : output;
    Optional<Path> weights = externalData
        ? Optional.of(single ? Path.of(output + ".data") : dir.resolve(stem(model) + ".weights"))
        : Optional.empty();
    VariantWriter writer = VariantWriter.create(source, layout, sha, weights);
    PrintWriter out = spec.commandLine().getOut();
    List<VariantWriter.Written> written = new ArrayList<>();
    SortedSet<String> unchecked = new TreeSet<>();
    for (SkipSpan span : spans) {
      Path target = single ? output : dir.resolve(VariantWriter.fileName(span, layout.layers()));
      VariantWriter.Written w = writer.write(span, target);
      written.add(w);
      out.printf("skip %-6s %s  %d nodes, %,d parameters, %s%n", span, target, w.nodes(), w.parameters(), InspectCommand.humanBytes(w.bytes()));
      out.flush();
      if (validate) {
        unchecked.addAll(validateOrRemove(target).uncheckedOps().keySet());
      }
    }
    if (validate) {
      out.printf("%s valid ONNX (%s)%n", written.size() == 1 ? "the variant is" : "all " + written.size() + " variants are",
          Validator.checker());
      if (!unchecked.isEmpty()) {
        out.printf("note: %s have no ONNX schema; the checker verified their structure only%n", String.join(", ", unchecked));
      }
    }
    if (!single) {
      writer.writeManifest(dir, model, written);
      out.printf("wrote %d variants and %s to %s%n", written.size(), VariantWriter.MANIFEST, dir);
    }
    out.flush();
    return 0;
  }

  /** A variant that fails validation is not left behind as if it were a usable output. */
  private static Validator.Report validateOrRemove(Path variant) {
    try {
      return Validator.validate(variant);
    } catch (OnnxSkipException e) {
      try {
        Files.deleteIfExists(variant);
      } catch (IOException ignored) {
        // The validation failure is the news; a leftover file does not change it.
      }
      throw new OnnxSkipException(e.getMessage() + " (the variant was removed; rewrite without --validate to keep it)", e);
    }
  }

  private static String stem(Path p) {
    String name = p.getFileName().toString();
    return name.endsWith(".onnx") ? name.substring(0, name.length() - 5) : name;
  }

  /** Refuses to overwrite the input, or existing outputs without --force, before any work is done. */
  private void checkOutput(boolean single) {
    Path in = model.toAbsolutePath().normalize();
    Path outPath = output.toAbsolutePath().normalize();
    if (in.equals(outPath) || (Files.exists(outPath) && isSameFile(in, outPath))) {
      throw new UsageException("output " + output + " is the input model; refusing to overwrite it");
    }
    if (single) {
      if (Files.isDirectory(outPath)) {
        throw new UsageException("output " + output + " is a directory; --span writes one file");
      }
      if (Files.exists(outPath) && !force) {
        throw new UsageException("output " + output + " exists; use --force to replace it");
      }
      return;
    }
    if (Files.exists(outPath) && !Files.isDirectory(outPath)) {
      throw new UsageException("output " + output + " is a file; --spans and --all-spans write a folder");
    }
    if (Files.isDirectory(outPath) && !force && !isEmpty(outPath)) {
      throw new UsageException("output folder " + output + " is not empty; use --force to write into it");
    }
    if (outPath.startsWith(in.getParent()) && outPath.equals(in.getParent()) && !force) {
      throw new UsageException("output folder " + output + " holds the input model; choose another folder");
    }
  }

  private static boolean isSameFile(Path a, Path b) {
    try {
      return Files.isSameFile(a, b);
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean isEmpty(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.findAny().isEmpty();
    } catch (IOException e) {
      return false;
    }
  }
}
