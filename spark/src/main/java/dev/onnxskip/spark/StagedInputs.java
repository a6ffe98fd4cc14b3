package dev.onnxskip.spark;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.google.protobuf.CodedInputStream;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.UsageException;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.OnnxModel;
import java.io.BufferedInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.UnsupportedFileSystemException;
import org.apache.hadoop.security.AccessControlException;

/**
 * The inputs given as Hadoop URIs ({@code hdfs://}, {@code s3a://}, {@code file://}, ...), copied
 * onto the driver before eval runs, so that eval reads, checks and digests local files as it always
 * does. The model comes with its external data and a {@code config.json} beside it; executors get
 * the model and its external data through Spark's file distribution ({@code SparkContext.addFile}),
 * which fetches them from the store itself.
 *
 * <p>Each input is copied under a temporary name and renamed when whole; the folder they are copied
 * into is removed when the run ends, or the JVM exits.
 */
final class StagedInputs implements AutoCloseable {

  /** The options that name inputs, in the order they are copied; the model first, for its external data. */
  static final List<String> OPTIONS = List.of("--model", "--tokenizer", "--data");

  /** The start of the copies' folder's name, in {@code spark.local.dir}. */
  static final String FOLDER_PREFIX = "onnx-skip-inputs-";

  /** A scheme, then "://": what tells a URI from a local path (which may hold a colon). */
  private static final Pattern URI_TEXT = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*://.*");

  /** Nothing given as a URI: nothing copied, nothing shipped. */
  static final StagedInputs NONE = new StagedInputs(Optional.empty(), Map.of(), Map.of(), List.of());

  private final Optional<Path> folder;
  private final Map<String, Path> local;
  private final Map<String, String> shownAs;
  private final List<String> forExecutors;
  private final Optional<Thread> removeAtExit;

  private StagedInputs(Optional<Path> folder, Map<String, Path> local, Map<String, String> shownAs, List<String> forExecutors) {
    this.folder = folder;
    this.local = Map.copyOf(local);
    this.shownAs = Map.copyOf(shownAs);
    this.forExecutors = List.copyOf(forExecutors);
    // A driver that is killed runs no finally block, but does run shutdown hooks.
    this.removeAtExit = folder.map(f -> new Thread(() -> delete(f), "onnx-skip staged inputs"));
    removeAtExit.ifPresent(Runtime.getRuntime()::addShutdownHook);
  }

  static boolean isUri(String text) {
    return URI_TEXT.matcher(text).matches();
  }

  /** The local copy of each input option given as a URI, by option name. */
  Map<String, Path> local() {
    return local;
  }

  /**
   * Each copy's folder (with a trailing separator) and the folder of the URI it was copied from: what
   * the reports show instead, so that results.json names the inputs as given, not copies that are
   * gone when the run ends (the model, and a config.json copied beside it, both).
   */
  Map<String, String> shownAs() {
    return shownAs;
  }

  /** What the executors are to fetch through {@code SparkContext.addFile}: the model and its external data, as URIs. */
  List<String> forExecutors() {
    return forExecutors;
  }

  /**
   * Copies every input of {@code uris} (option name to the text given) onto the driver, in {@code
   * parent}: through Hadoop's FileSystem of its scheme, with {@code hadoop}, after checking that
   * every one of them is there.
   *
   * @param log where a line per copied file goes; empty for none
   * @throws OnnxSkipException in one line, naming the URI: no Hadoop FileSystem for its scheme, no
   *     such file, a folder, unreadable, or external data the executors could not be sent
   */
  static StagedInputs copy(Map<String, String> uris, Configuration hadoop, Path parent, Optional<PrintWriter> log) {
    if (uris.isEmpty()) {
      return NONE;
    }
    Map<String, Source> sources = new LinkedHashMap<>();
    for (String option : OPTIONS) {
      if (uris.containsKey(option)) {
        sources.put(option, Source.of(uris.get(option), hadoop));
      }
    }
    Path folder;
    try {
      Files.createDirectories(parent);
      folder = Files.createTempDirectory(parent, FOLDER_PREFIX);
    } catch (IOException e) {
      throw new OnnxSkipException("cannot make a folder for the inputs' copies in " + parent + ": " + e.getMessage(), e);
    }
    try {
      Map<String, Path> local = new LinkedHashMap<>();
      Map<String, String> shownAs = new LinkedHashMap<>();
      List<String> forExecutors = new ArrayList<>();
      for (Map.Entry<String, Source> input : sources.entrySet()) {
        // A folder for each option: the inputs' file names need not differ.
        Path into = folder.resolve(input.getKey().substring("--".length()));
        Source source = input.getValue();
        Path copy = source.copyInto(into, log);
        local.put(input.getKey(), copy);
        shownAs.put(copy.getParent().toString() + java.io.File.separator, source.shown().substring(0, source.shown().lastIndexOf('/') + 1));
        if (input.getKey().equals("--model")) {
          forExecutors.add(source.uri());
          for (String location : externalDataLocations(copy)) {
            Optional<String> name = fileName(source, location);
            if (name.isEmpty()) {
              continue;
            }
            Source data = source.beside(name.get()).orElseThrow(() -> new OnnxSkipException(
                source.shown() + ": external data file " + source.besideText(name.get()) + " is missing"));
            data.copyInto(into, log);
            forExecutors.add(data.uri());
          }
          // Where the model has no id2label of its own, eval takes the names from a config.json beside it.
          source.beside("config.json").ifPresent(config -> config.copyInto(into, log));
        }
      }
      return new StagedInputs(Optional.of(folder), local, shownAs, forExecutors);
    } catch (RuntimeException e) {
      delete(folder);
      throw e;
    }
  }

  /**
   * The external-data locations of the model copied to {@code model}; none where it does not parse,
   * so that eval's own loading says what is wrong with it.
   */
  private static List<String> externalDataLocations(Path model) {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(model), 1 << 20)) {
      CodedInputStream coded = CodedInputStream.newInstance(in);
      // As eval reads models: up to protobuf's 2 GB, with deeply nested graphs.
      coded.setSizeLimit(Integer.MAX_VALUE);
      coded.setRecursionLimit(1000);
      return List.copyOf(ExternalData.locations(new OnnxModel(ModelProto.parseFrom(coded), Optional.of(model))));
    } catch (IOException | OnnxSkipException e) {
      return List.of();
    }
  }

  /**
   * An external-data location as the name of a file beside the model; empty for one outside the
   * model's folder, which eval refuses with its own message. Spark's file distribution keeps only
   * file names, so executors could not find a file in a sub-folder: that is refused here.
   */
  private static Optional<String> fileName(Source model, String location) {
    Path path = Path.of(location).normalize();
    if (path.isAbsolute() || path.startsWith("..")) {
      return Optional.empty();
    }
    if (path.getNameCount() > 1) {
      throw new OnnxSkipException(model.shown() + ": external data location '" + location + "' is in a sub-folder; executors get a"
          + " model's files through Spark's file distribution, which keeps file names only: keep the external data beside the model");
    }
    return Optional.of(path.toString());
  }

  @Override
  public void close() {
    folder.ifPresent(StagedInputs::delete);
    removeAtExit.ifPresent(hook -> {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // The JVM is exiting: the hook runs anyway.
      }
    });
  }

  private static void delete(Path folder) {
    if (!Files.exists(folder)) {
      return;
    }
    try (Stream<Path> all = Files.walk(folder)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      // Copies in the temporary folder; a file that cannot go now is left to it.
    }
  }

  /**
   * One file at a URI, found in its store.
   *
   * @param shown the URI as the user gave it (Hadoop's own form drops an empty authority: file:/x)
   */
  private record Source(String shown, org.apache.hadoop.fs.Path path, FileSystem fs, long length) {

    static Source of(String shown, Configuration hadoop) {
      org.apache.hadoop.fs.Path path;
      try {
        path = new org.apache.hadoop.fs.Path(shown);
      } catch (IllegalArgumentException e) {
        throw new UsageException(shown + ": not a usable URI: " + e.getMessage());
      }
      FileSystem fs;
      try {
        fs = path.getFileSystem(hadoop);
      } catch (UnsupportedFileSystemException e) {
        throw new OnnxSkipException(shown + ": no Hadoop FileSystem for scheme '" + path.toUri().getScheme() + "' on the classpath;"
            + " add its connector with spark-submit --packages or --jars (s3a needs hadoop-aws, gs the GCS connector, abfs hadoop-azure)");
      } catch (IOException e) {
        throw new OnnxSkipException(shown + ": cannot reach its file system: " + reason(e), e);
      }
      FileStatus status = status(shown, path, fs).orElseThrow(() -> new OnnxSkipException(shown + ": no such file"));
      if (status.isDirectory()) {
        throw new OnnxSkipException(shown + ": is a directory, not a file");
      }
      return new Source(shown, path, fs, status.getLen());
    }

    /** What is at {@code path}, if anything. */
    private static Optional<FileStatus> status(String shown, org.apache.hadoop.fs.Path path, FileSystem fs) {
      try {
        return Optional.of(fs.getFileStatus(path));
      } catch (FileNotFoundException e) {
        return Optional.empty();
      } catch (IOException e) {
        throw new OnnxSkipException(shown + ": cannot read: " + reason(e), e);
      }
    }

    /** The file named {@code name} in this one's folder, if there is one (a folder of that name is none, as for eval). */
    Optional<Source> beside(String name) {
      String text = besideText(name);
      org.apache.hadoop.fs.Path sibling = new org.apache.hadoop.fs.Path(path.getParent(), name);
      return status(text, sibling, fs).filter(FileStatus::isFile).map(status -> new Source(text, sibling, fs, status.getLen()));
    }

    String besideText(String name) {
      return shown.substring(0, shown.lastIndexOf('/') + 1) + name;
    }

    /** The URI as Spark's addFile reads it: escaped where the text has spaces. */
    String uri() {
      return path.toUri().toString();
    }

    /** Copies the file into {@code folder} under its own name, whole or not at all. */
    Path copyInto(Path folder, Optional<PrintWriter> log) {
      long started = System.nanoTime();
      Path target = folder.resolve(path.getName());
      Path partial = folder.resolve(path.getName() + ".partial");
      try {
        Files.createDirectories(folder);
        long copied;
        try (InputStream in = fs.open(path)) {
          copied = Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
        }
        if (copied != length) {
          throw new OnnxSkipException(shown + ": cannot read: got " + copied + " of its " + length + " bytes");
        }
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileNotFoundException e) {
        throw new OnnxSkipException(shown + ": no such file", e);
      } catch (IOException e) {
        throw new OnnxSkipException(shown + ": cannot copy it to the driver: " + reason(e), e);
      } finally {
        try {
          Files.deleteIfExists(partial);
        } catch (IOException e) {
          // The whole folder goes at the end of the run.
        }
      }
      log.ifPresent(out -> {
        out.println(String.format(Locale.ROOT, "spark: copied %s to the driver (%,.1f MiB in %.1f s)", shown, length / 1048576.0,
            (System.nanoTime() - started) / 1e9));
        out.flush();
      });
      return target;
    }

    /** An I/O failure's reason in a few words; Hadoop's messages often repeat the path. */
    private static String reason(IOException e) {
      if (e instanceof AccessControlException || e instanceof java.nio.file.AccessDeniedException) {
        return "permission denied";
      }
      String message = e.getMessage();
      return message == null ? e.getClass().getSimpleName() : message.lines().findFirst().orElse(message);
    }
  }
}
