package dev.onnxskip;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a file so that readers only ever see the old content or the complete new content: the
 * bytes go to a temporary file in the same folder, which is then renamed over the target. An
 * interrupted write leaves no partial output behind.
 */
public final class AtomicFiles {

  /** Writes the body of a file; may throw IOException. */
  @FunctionalInterface
  public interface Body {
    void writeTo(OutputStream out) throws IOException;
  }

  private AtomicFiles() {}

  public static void write(Path target, Body body) {
    Path dir = target.toAbsolutePath().getParent();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      // A name of our own rather than createTempFile, whose owner-only permissions would stick
      // to the result; the random part keeps concurrent writers of one target apart.
      tmp = dir.resolve("." + target.getFileName() + "." + java.util.UUID.randomUUID() + ".tmp");
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp, java.nio.file.StandardOpenOption.CREATE_NEW), 1 << 20)) {
        body.writeTo(out);
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      tmp = null;
    } catch (IOException e) {
      throw new OnnxSkipException("cannot write " + target + ": " + describe(e), e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // The write already failed and says so; a stray temp file is the lesser problem.
        }
      }
    }
  }

  public static void writeString(Path target, String text) {
    write(target, out -> out.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }

  /** A short reason for an I/O failure: the exception type says more than its bare path message. */
  public static String describe(IOException e) {
    String kind;
    if (e instanceof java.nio.file.AccessDeniedException) {
      kind = "permission denied";
    } else if (e instanceof java.nio.file.NoSuchFileException) {
      kind = "no such file or directory";
    } else if (e instanceof java.nio.file.FileAlreadyExistsException) {
      kind = "file exists";
    } else if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) {
      kind = fse.getReason();
    } else {
      kind = e.getMessage();
    }
    return kind == null ? e.getClass().getSimpleName() : kind;
  }
}
