package dev.onnxskip.cli;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.UsageException;
import dev.onnxskip.graph.Digests;
import dev.onnxskip.graph.ExternalData;
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
import java.util.Set;
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
    if (selection.span != null) {
      SkipSpans.checkText(selection.span);
    } else if (selection.spans != null) {
      SkipSpans.checkText(selection.spans);
    }
    Optional<StaticShapes.Dims> dims = Optional.ofNullable(staticShapes).map(StaticShapes.Dims::parse);
    OnnxModel loaded = ModelIO.load(model);
    OnnxModel source = dims.map(d -> StaticShapes.apply(loaded, d)).orElse(loaded);
    EncoderLayout layout = LayoutDetector.detect(source, layoutOptions.boundaries);
    boolean single = selection.span != null;
    List<SkipSpan> spans = single
        ? List.of(SkipSpans.parseOne(selection.span, layout.layers()))
        : SkipSpans.parse(selection.all ? "all" : selection.spans, layout.layers());
    Path dir = single ? output.toAbsolutePath().getParent() : output;
    List<Path> targets = new ArrayList<>();
    spans.forEach(span -> targets.add(single ? output : dir.resolve(VariantWriter.fileName(span, layout.layers()))));
    Optional<Path> weights = externalData
        ? Optional.of(single ? Path.of(output + ".data") : dir.resolve(stem(model) + ".weights"))
        : Optional.empty();
    List<Path> outputs = new ArrayList<>(targets);
    weights.ifPresent(outputs::add);
    if (!single) {
      outputs.add(dir.resolve(VariantWriter.MANIFEST));
    }
    checkOutput(single, source, outputs);
    Path existingFolder = existingFolder(dir);

    String sha = Digests.sha256(model);
    PrintWriter out = spec.commandLine().getOut();
    List<Path> writtenFiles = new ArrayList<>();
    boolean done = false;
    try {
      VariantWriter writer = VariantWriter.create(source, layout, sha, weights);
      weights.ifPresent(writtenFiles::add);
      List<VariantWriter.Written> written = new ArrayList<>();
      SortedSet<String> unchecked = new TreeSet<>();
      for (int i = 0; i < spans.size(); i++) {
        VariantWriter.Written w = writer.write(spans.get(i), targets.get(i));
        writtenFiles.add(targets.get(i));
        written.add(w);
        out.printf("skip %-6s %s  %d nodes, %,d parameters, %s%n", spans.get(i), targets.get(i), w.nodes(), w.parameters(),
            InspectCommand.humanBytes(w.bytes()));
        out.flush();
        if (validate) {
          unchecked.addAll(validateOrRemove(targets.get(i)).uncheckedOps().keySet());
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
      done = true;
    } finally {
      out.flush();
      if (!done) {
        removeOutputs(writtenFiles, dir, existingFolder);
      }
    }
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

  /**
   * Refuses, before any work is done, to write over the input model or its external data, or
   * over existing outputs without --force.
   */
  private void checkOutput(boolean single, OnnxModel source, List<Path> outputs) {
    Path in = model.toAbsolutePath().normalize();
    Set<Path> externalData = ExternalData.files(source);
    List<Path> checked = new ArrayList<>(List.of(output)); // in folder mode, the folder itself
    checked.addAll(outputs);
    for (Path target : checked) {
      String shown = target.equals(output) ? output.toString() : target.normalize().toString();
      InputGuard.refuseOverwriting(in, externalData, target, shown);
    }
    Path outPath = output.toAbsolutePath().normalize();
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
  }

  /**
   * The nearest folder at or above {@code dir} that exists: the run creates the folders below it
   * and, if it fails, removes them again.
   *
   * @throws OnnxSkipException when that nearest existing path is a file, so that no folder can be
   *     created there
   */
  private Path existingFolder(Path dir) {
    Path existing = dir.toAbsolutePath().normalize();
    while (existing.getParent() != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (!Files.isDirectory(existing)) {
      throw new OnnxSkipException("cannot write " + output + ": " + existing + " is not a folder");
    }
    return existing;
  }

  /**
   * Takes back what a failed run wrote: its files, then the folders it created up to {@code
   * existingFolder}, so that no variant of a run that did not finish is mistaken for a good one.
   */
  private static void removeOutputs(List<Path> files, Path dir, Path existingFolder) {
    files.forEach(RewriteCommand::deleteQuietly);
    for (Path d = dir.toAbsolutePath().normalize(); d.startsWith(existingFolder) && !d.equals(existingFolder); d = d.getParent()) {
      if (!deleteQuietly(d)) {
        break;
      }
    }
  }

  /**
   * Deletes a file or an empty folder, saying whether it is gone. The run has already failed and
   * says why; a file that cannot be removed, or a folder that is not empty, must not hide that.
   */
  private static boolean deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
      return true;
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
