package dev.onnxskip.cli;

import dev.onnxskip.UsageException;
import dev.onnxskip.eval.Journal;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The one rule by which every command writes its output, whether named by {@code -o} (rewrite,
 * probe) or {@code --out} (eval): a file output is never a folder, a folder output never a file,
 * earlier output is replaced only with {@code --force} (or, for a run with a journal, continued
 * with {@code --resume}), and nothing is ever written over the input model or its external data. The path checks need no model, so commands make them before loading
 * one; only the input check waits for the loaded model, which names its external data.
 *
 * @param model the command's input model, which no output may be
 * @param force replace earlier output
 */
record OutputPolicy(Path model, boolean force) {

  /**
   * A command that writes one file.
   *
   * @param writes what the command writes, for the message: "--span writes one file"
   */
  void checkFile(Path file, String writes) {
    refuseInputs(Set.of(), Set.of(file));
    if (Files.isDirectory(file)) {
      throw new UsageException("output " + file + " is a directory; " + writes);
    }
    if (Files.exists(file) && !force) {
      throw new UsageException("output " + file + " exists; use --force to replace it");
    }
  }

  /**
   * A command that fills a folder of its own: a folder that holds anything is replaced into only
   * with {@code --force}.
   *
   * @param writes what the command writes, for the message: "--spans and --all-spans write a folder"
   */
  void checkFolder(Path folder, String writes) {
    refuseInputs(Set.of(), Set.of(folder));
    refuseFile(folder, writes);
    if (Files.isDirectory(folder) && !force && !isEmpty(folder)) {
      throw new UsageException("output folder " + folder + " is not empty; use --force to write into it");
    }
  }

  /**
   * A command that keeps a journal in its folder: a folder holding an earlier run's work is taken
   * up again only with {@code --resume}, or started over with {@code --force}; other files in it
   * are left alone.
   */
  void checkRunFolder(Path folder, boolean resume, String writes) {
    refuseInputs(Set.of(), Set.of(folder));
    refuseFile(folder, writes);
    Journal.refuseEarlierRun(folder, resume, force);
  }

  private static void refuseFile(Path folder, String writes) {
    if (Files.exists(folder) && !Files.isDirectory(folder)) {
      throw new UsageException("output " + folder + " is a file; " + writes);
    }
    // A new folder named like a model is a slip for a file output, not a wish.
    if (!Files.exists(folder) && folder.getFileName() != null && folder.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx")) {
      throw new UsageException("output " + folder + " is named like a model file, but " + writes + "; name a folder");
    }
  }

  /**
   * Refuses any output that is the input model or one of its external-data files, under any
   * spelling, symbolic links included.
   *
   * @param externalData the files the loaded model reads its weights from
   * @param outputs every path the command would write, with the folder it writes into, if any
   */
  void refuseInputs(Set<Path> externalData, Collection<Path> outputs) {
    for (Path target : outputs) {
      if (isSameFile(model, target)) {
        throw new UsageException("output " + target + " is the input model; refusing to overwrite it");
      }
      if (externalData.stream().anyMatch(data -> isSameFile(data, target))) {
        throw new UsageException("output " + target + " is the external data of the input model; refusing to overwrite it");
      }
    }
  }

  private static boolean isSameFile(Path a, Path b) {
    if (a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize())) {
      return true;
    }
    try {
      return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
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
