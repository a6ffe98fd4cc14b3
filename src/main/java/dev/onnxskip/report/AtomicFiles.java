package dev.onnxskip.report;

import dev.onnxskip.OnnxSkipException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Writes a file so that readers see either the old file or the complete new one, never a part:
 * the bytes go to a temporary file in the same folder (so the rename stays on one file system),
 * which then replaces the target.
 */
final class AtomicFiles {

  /** Writes the bytes of one file. */
  @FunctionalInterface
  interface Content {
    void writeTo(OutputStream out) throws IOException;
  }

  private AtomicFiles() {}

  static void write(Path target, Content content) {
    Path absolute = target.toAbsolutePath();
    Path dir = absolute.getParent();
    // A name of our own rather than createTempFile, whose owner-only permissions would stick to the result.
    Path temp = dir.resolve("." + absolute.getFileName() + "." + UUID.randomUUID() + ".tmp");
    try {
      Files.createDirectories(dir);
      try (OutputStream out = Files.newOutputStream(temp, StandardOpenOption.CREATE_NEW)) {
        content.writeTo(out);
      }
      try {
        Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new OnnxSkipException(
          "cannot write " + target + ": " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
    } finally {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException ignored) {
        // The failure that left it behind is the one worth reporting.
      }
    }
  }
}
