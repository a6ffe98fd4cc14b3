package dev.onnxskip.rewrite;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.Digests;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The files of one rewrite: a variant per span, the shared weights file when asked for, and, for
 * a folder of variants, its manifest. They are written all or nothing: when any step fails, what
 * the run wrote and the folders it created are removed again, so that no variant of a run that
 * did not finish is mistaken for a good one.
 *
 * @param targets the file of each span's variant, in the order of {@code spans}
 * @param weights the shared external-data file, when variants point into one
 * @param folder the folder that gets the manifest; empty for a single variant file
 */
public record VariantFiles(List<SkipSpan> spans, List<Path> targets, Optional<Path> weights, Optional<Path> folder) {

  public VariantFiles {
    spans = List.copyOf(spans);
    targets = List.copyOf(targets);
    if (spans.size() != targets.size()) {
      throw new IllegalArgumentException(spans.size() + " spans for " + targets.size() + " files");
    }
  }

  /** One variant in {@code file}; its shared weights, if any, beside it as {@code file.data}. */
  public static VariantFiles single(SkipSpan span, Path file, boolean externalData) {
    Optional<Path> weights = externalData ? Optional.of(Path.of(file + ".data")) : Optional.empty();
    return new VariantFiles(List.of(span), List.of(file), weights, Optional.empty());
  }

  /**
   * One variant per span in {@code dir}, named by {@link VariantWriter#fileName}, with the manifest;
   * shared weights go to {@code <source stem>.weights}.
   */
  public static VariantFiles folder(List<SkipSpan> spans, int layers, Path dir, Path source, boolean externalData) {
    List<Path> targets = spans.stream().map(s -> dir.resolve(VariantWriter.fileName(s, layers))).toList();
    Optional<Path> weights = externalData ? Optional.of(dir.resolve(stem(source) + ".weights")) : Optional.empty();
    return new VariantFiles(spans, targets, weights, Optional.of(dir));
  }

  /** Every file the run writes, so that a command can check them all before any work. */
  public List<Path> outputs() {
    List<Path> all = new ArrayList<>(targets);
    weights.ifPresent(all::add);
    folder.ifPresent(d -> all.add(d.resolve(VariantWriter.MANIFEST)));
    return all;
  }

  /**
   * What a run wrote.
   *
   * @param uncheckedOps ops of the variants that have no ONNX schema, so that the checker verified
   *     their structure only (with validation)
   */
  public record Result(List<VariantWriter.Written> written, SortedSet<String> uncheckedOps) {}

  /**
   * Writes every file, in order, telling {@code onWritten} of each variant as soon as it is in place.
   *
   * @param sourceFile the source model's file, whose digest the variants' provenance records
   * @param validate check each variant as the validate command does; one that fails is removed and
   *     the run stops
   * @throws OnnxSkipException when a step fails, after removing what the run wrote
   */
  public Result write(OnnxModel source, EncoderLayout layout, Path sourceFile, boolean validate,
      Consumer<VariantWriter.Written> onWritten) {
    Path dir = folder.orElse(targets.get(0).toAbsolutePath().getParent());
    Path existing = nearestExistingFolder(dir, folder.orElse(targets.get(0)));
    List<Path> writtenFiles = new ArrayList<>();
    boolean done = false;
    try {
      VariantWriter writer = VariantWriter.create(source, layout, Digests.sha256(sourceFile), weights);
      weights.ifPresent(writtenFiles::add);
      List<VariantWriter.Written> written = new ArrayList<>();
      SortedSet<String> unchecked = new TreeSet<>();
      for (int i = 0; i < spans.size(); i++) {
        VariantWriter.Written w = writer.write(spans.get(i), targets.get(i));
        writtenFiles.add(targets.get(i));
        written.add(w);
        onWritten.accept(w);
        if (validate) {
          unchecked.addAll(validated(targets.get(i)).uncheckedOps().keySet());
        }
      }
      folder.ifPresent(d -> writer.writeManifest(d, sourceFile, written));
      done = true;
      return new Result(List.copyOf(written), unchecked);
    } finally {
      if (!done) {
        remove(writtenFiles, dir, existing);
      }
    }
  }

  /** Says why a variant failed validation, and that it is not left behind as if it were usable. */
  private static Validator.Report validated(Path variant) {
    try {
      return Validator.validate(variant);
    } catch (OnnxSkipException e) {
      throw new OnnxSkipException(e.getMessage() + " (the variant was removed; rewrite without --validate to keep it)", e);
    }
  }

  /**
   * The nearest folder at or above {@code dir} that exists: the run creates the folders below it
   * and, if it fails, removes them again.
   *
   * @param output the file or folder to write, for the message
   * @throws OnnxSkipException when that nearest existing path is a file, so that no folder can be
   *     created there
   */
  public static Path nearestExistingFolder(Path dir, Path output) {
    Path existing = dir.toAbsolutePath().normalize();
    while (existing.getParent() != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (!Files.isDirectory(existing)) {
      throw new OnnxSkipException("cannot write " + output + ": " + existing + " is not a folder");
    }
    return existing;
  }

  /** Takes back what a failed run wrote: its files, then the folders it created up to {@code existing}. */
  private static void remove(List<Path> files, Path dir, Path existing) {
    files.forEach(VariantFiles::deleteQuietly);
    for (Path d = dir.toAbsolutePath().normalize(); d.startsWith(existing) && !d.equals(existing); d = d.getParent()) {
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

  private static String stem(Path p) {
    String name = p.getFileName().toString();
    return name.endsWith(".onnx") ? name.substring(0, name.length() - 5) : name;
  }
}
