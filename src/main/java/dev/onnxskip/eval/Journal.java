package dev.onnxskip.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.onnxskip.AtomicFiles;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.UsageException;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.ClassifierOutputs;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.StreamSupport;

/**
 * The record of an evaluation run in its output folder, so that no finished work is lost: one
 * JSON line per finished piece (a whole variant, or one batch of a variant), appended and forced
 * to disk as soon as it is done. A run killed
 * at any point resumes from it; a line cut short by the kill is dropped. The first line holds the
 * run key (a hash of model, data and settings), and a run with another key may not resume it.
 *
 * <p>The journal also holds the folder's lock for as long as it is open, so two runs cannot
 * interleave their writes.
 */
public final class Journal implements AutoCloseable {

  public static final String FILE = "journal.jsonl";
  public static final String LOCK = ".onnx-skip.lock";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> NON_FINITE = Set.of("NaN", "Infinity", "-Infinity");

  /**
   * The outputs of some examples under one variant, at their dataset rows. The per-example extras
   * (head features, pooled states, layer metrics), where the run made them, are kept as base64 of
   * little-endian float32: exact, and a quarter of the size of decimal text.
   */
  public record Entry(Variant variant, int[] rows, ClassifierOutputs outputs) {

    public Entry(Variant variant, int[] rows, float[][] logits) {
      this(variant, rows, ClassifierOutputs.logitsOnly(logits));
    }

    public float[][] logits() {
      return outputs.logits();
    }
  }

  private final Path file;
  private final Path lockFile;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final FileChannel channel;
  private final List<Entry> done;
  /** The outermost folder that opening the journal created, which an abandoned run removes again. */
  private final Optional<Path> createdFolder;
  private boolean abandoned;

  private Journal(Path file, FileChannel lockChannel, FileLock lock, FileChannel channel, List<Entry> done, Optional<Path> createdFolder) {
    this.file = file;
    this.createdFolder = createdFolder;
    this.lockFile = file.resolveSibling(LOCK);
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.channel = channel;
    this.done = done;
  }

  /**
   * Opens the journal of an output folder, taking its lock.
   *
   * @param runKey identifies model, data and settings; a journal with another key is not resumed,
   *     and the refusal names what differs
   * @param resume continue an earlier journal; without it, a journal holding finished work is
   *     refused (one with none, left by a run that failed or was killed before finishing anything,
   *     is simply started over, so a failed run does not make the next need --force)
   * @param force start over, discarding an earlier journal
   */
  public static Journal open(Path dir, RunKey runKey, boolean resume, boolean force) {
    Optional<Path> created = outermostMissing(dir.toAbsolutePath().normalize());
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new OnnxSkipException("cannot create output folder " + dir + ": " + AtomicFiles.describe(e), e);
    }
    if (!Files.isWritable(dir)) {
      throw new OnnxSkipException("output folder " + dir + " is not writable");
    }
    FileChannel lockChannel = null;
    try {
      lockChannel = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = lockChannel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        throw new OnnxSkipException("output folder " + dir + " is in use by another onnx-skip run (lock " + dir.resolve(LOCK) + ")");
      }
      Path file = dir.resolve(FILE);
      List<Entry> done = new ArrayList<>();
      refuseEarlierRun(dir, resume, force);
      if (resume && !force && Files.exists(file) && Files.size(file) > 0) {
        long goodLength = readInto(file, runKey, done);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
          ch.truncate(goodLength);
        }
      } else {
        AtomicFiles.writeString(file, header(runKey) + "\n");
      }
      FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
      return new Journal(file, lockChannel, lock, channel, done, created);
    } catch (IOException e) {
      closeQuietly(lockChannel);
      throw new OnnxSkipException("cannot open the journal in " + dir + ": " + AtomicFiles.describe(e), e);
    } catch (RuntimeException e) {
      closeQuietly(lockChannel);
      throw e;
    }
  }

  /** The outermost folder on the way to {@code dir} that does not exist yet, if any. */
  private static Optional<Path> outermostMissing(Path dir) {
    Path missing = null;
    for (Path p = dir; p != null && Files.notExists(p); p = p.getParent()) {
      missing = p;
    }
    return Optional.ofNullable(missing);
  }

  /**
   * Marks the run as failed: if the journal holds no finished work, of this run or an earlier one,
   * closing it removes it, and the folders opening it created, so a run that did nothing leaves
   * nothing behind.
   */
  public void abandon() {
    abandoned = true;
  }

  /** Work finished by an earlier run, in the order it was done. */
  public List<Entry> done() {
    return List.copyOf(done);
  }

  /** Appends finished work and forces it to disk before returning. */
  public void append(List<Entry> entries) {
    StringBuilder text = new StringBuilder();
    for (Entry entry : entries) {
      text.append(line(entry)).append('\n');
    }
    try {
      ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
      while (bytes.hasRemaining()) {
        channel.write(bytes);
      }
      // Finished work must survive a kill or power loss right after this returns.
      channel.force(false);
      done.addAll(entries);
    } catch (IOException e) {
      throw new OnnxSkipException("cannot append to " + file + ": " + AtomicFiles.describe(e), e);
    }
  }

  private static String line(Entry entry) {
    ObjectNode line = JSON.createObjectNode();
    if (entry.variant() instanceof SkipSpan span) {
      line.putArray("span").add(span.start()).add(span.end());
    } else {
      line.putNull("span");
    }
    ArrayNode rows = line.putArray("rows");
    for (int r : entry.rows()) {
      rows.add(r);
    }
    ArrayNode logits = line.putArray("logits");
    for (float[] row : entry.logits()) {
      ArrayNode r = logits.addArray();
      for (float f : row) {
        r.add(f);
      }
    }
    entry.outputs().extras().forEach((which, values) -> {
      int width = values.length == 0 ? 0 : values[0].length;
      ByteBuffer bytes = ByteBuffer.allocate(values.length * width * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      for (float[] row : values) {
        for (float f : row) {
          bytes.putFloat(f);
        }
      }
      ObjectNode extra = line.putObject(which.key());
      extra.put("width", width);
      extra.put("f32le", Base64.getEncoder().encodeToString(bytes.array()));
    });
    return line.toString();
  }

  @Override
  public void close() {
    closeQuietly(channel);
    try {
      // Removed while still held, so that no other run can take a lock on the file being removed;
      // a finished folder then holds only the run's outputs.
      Files.deleteIfExists(lockFile);
    } catch (IOException ignored) {
      // A lock file left behind is harmless: the next run locks it again.
    }
    try {
      lock.release();
    } catch (IOException ignored) {
      // Closing the channel below releases the lock too.
    }
    closeQuietly(lockChannel);
    if (abandoned && done.isEmpty()) {
      removeEmptyRun();
    }
  }

  /** Removes the journal of a run that finished nothing, and the folders made for it while they are empty. */
  private void removeEmptyRun() {
    try {
      Files.deleteIfExists(file);
      if (createdFolder.isPresent()) {
        Path top = createdFolder.get();
        for (Path p = file.getParent().toAbsolutePath().normalize(); p != null && p.startsWith(top); p = p.getParent()) {
          if (!isEmptyFolder(p)) {
            break;
          }
          Files.delete(p);
        }
      }
    } catch (IOException ignored) {
      // Leftovers of a failed run are the lesser problem; the failure itself is what gets reported.
    }
  }

  private static boolean isEmptyFolder(Path p) throws IOException {
    try (java.util.stream.Stream<Path> entries = Files.list(p)) {
      return entries.findAny().isEmpty();
    }
  }

  private static String header(RunKey runKey) {
    ObjectNode h = JSON.createObjectNode();
    h.put("journal", "onnx-skip eval");
    h.put("run_key", runKey.digest());
    h.set("key", runKey.entries());
    return h.toString();
  }

  /**
   * Refuses a folder whose journal holds an earlier run's work, unless the caller resumes it or
   * starts over. It reads no more than two lines, so a command can ask before loading anything.
   *
   * @throws UsageException naming the folder and both ways on
   */
  public static void refuseEarlierRun(Path dir, boolean resume, boolean force) {
    Path file = dir.resolve(FILE);
    try {
      if (!resume && !force && Files.isRegularFile(file) && holdsWork(file)) {
        throw new UsageException("output folder " + dir + " holds an earlier run (" + FILE
            + "); use --resume to continue it or --force to start over");
      }
    } catch (IOException e) {
      throw new OnnxSkipException("cannot read " + file + ": " + AtomicFiles.describe(e), e);
    }
  }

  /** Whether a journal holds a complete line of finished work after its header. */
  private static boolean holdsWork(Path file) throws IOException {
    // Reads only as far as the end of the second line: a journal can be large.
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
      int lines = 0;
      for (int b = in.read(); b >= 0; b = in.read()) {
        if (b == '\n' && ++lines == 2) {
          return true;
        }
      }
      return false;
    }
  }

  /** Reads finished entries; returns the length of the well-formed prefix of the file. */
  private static long readInto(Path file, RunKey runKey, List<Entry> done) throws IOException {
    byte[] all = Files.readAllBytes(file);
    int start = 0;
    long good = 0;
    boolean first = true;
    int lineNumber = 0;
    for (int i = 0; i < all.length; i++) {
      if (all[i] != '\n') {
        continue;
      }
      String line = new String(all, start, i - start, StandardCharsets.UTF_8);
      start = i + 1;
      lineNumber++;
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (JsonProcessingException e) {
        break;
      }
      if (first) {
        String key = node.path("run_key").asText();
        if (!key.equals(runKey.digest())) {
          List<String> differences = node.path("key").isObject() ? runKey.differencesFrom(node.get("key")) : List.of();
          throw new UsageException("cannot resume: " + file + " was written for another run: "
              + (differences.isEmpty()
                  ? "another model, data set or settings (run key " + abbreviate(key) + ", now " + abbreviate(runKey.digest()) + ")"
                  : String.join("; ", differences))
              + "; use --force to start over");
        }
        first = false;
      } else {
        Optional<Entry> entry = parseEntry(node);
        if (entry.isEmpty()) {
          throw new UsageException("cannot resume: " + file + " line " + lineNumber + " is not a journal entry; use --force to start over");
        }
        done.add(entry.get());
      }
      good = start;
    }
    if (first) {
      throw new UsageException("cannot resume: " + file + " has no valid header; use --force to start over");
    }
    return good;
  }

  /** The entry a journal line holds, or empty when it is not one (a line edited by hand). */
  private static Optional<Entry> parseEntry(JsonNode node) {
    JsonNode s = node.get("span");
    JsonNode r = node.get("rows");
    JsonNode l = node.get("logits");
    if (s == null || !(s.isNull() || s.isArray() && s.size() == 2) || r == null || !r.isArray() || l == null || !l.isArray()
        || r.size() != l.size() || !StreamSupport.stream(l.spliterator(), false).allMatch(JsonNode::isArray)) {
      return Optional.empty();
    }
    Variant span;
    try {
      span = s.isNull() ? Variant.BASELINE : new SkipSpan(s.get(0).asInt(), s.get(1).asInt());
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    int[] rows = new int[r.size()];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = r.get(i).asInt();
    }
    float[][] logits = new float[l.size()][];
    for (int i = 0; i < logits.length; i++) {
      logits[i] = new float[l.get(i).size()];
      for (int j = 0; j < logits[i].length; j++) {
        JsonNode value = l.get(i).get(j);
        if (value.isNumber()) {
          logits[i][j] = value.floatValue();
        } else if (NON_FINITE.contains(value.asText())) {
          // Jackson writes NaN and the infinities as strings; floatValue() would read them as 0
          // and change the results of a resumed run.
          logits[i][j] = Float.parseFloat(value.asText());
        } else {
          return Optional.empty();
        }
      }
    }
    Map<ClassifierOutputs.Extra, float[][]> extras = new EnumMap<>(ClassifierOutputs.Extra.class);
    for (ClassifierOutputs.Extra which : ClassifierOutputs.Extra.values()) {
      if (node.has(which.key())) {
        Optional<float[][]> read = floats(node.get(which.key()), rows.length);
        if (read.isEmpty()) {
          return Optional.empty();
        }
        extras.put(which, read.get());
      }
    }
    return Optional.of(new Entry(span, rows, new ClassifierOutputs(logits, extras)));
  }

  /** A base64 float matrix of an entry of {@code rows} rows, or empty when it is not well formed. */
  private static Optional<float[][]> floats(JsonNode node, int rows) {
    JsonNode width = node.get("width");
    JsonNode data = node.get("f32le");
    if (width == null || !width.canConvertToInt() || width.asInt() < 0 || data == null || !data.isTextual()) {
      return Optional.empty();
    }
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(data.asText());
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    int w = width.asInt();
    if (raw.length != (long) rows * w * Float.BYTES) {
      return Optional.empty();
    }
    FloatBuffer values = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[][] out = new float[rows][w];
    for (float[] row : out) {
      values.get(row);
    }
    return Optional.of(out);
  }

  private static String abbreviate(String key) {
    return key.length() > 12 ? key.substring(0, 12) : key;
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c != null) {
      try {
        c.close();
      } catch (Exception ignored) {
        // Nothing more to do for a handle we are giving up.
      }
    }
  }

}
