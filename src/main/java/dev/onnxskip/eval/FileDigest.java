package dev.onnxskip.eval;

import dev.onnxskip.OnnxSkipException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Content digests of input files, recorded with results so that a result names exactly what it measured. */
public final class FileDigest {

  private FileDigest() {}

  /** The SHA-256 of {@code file} as 64 lower-case hex digits, read in a stream (models can be gigabytes). */
  public static String sha256(Path file) {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      // Every Java platform must provide SHA-256.
      throw new IllegalStateException(e);
    }
    byte[] buffer = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
        digest.update(buffer, 0, read);
      }
    } catch (NoSuchFileException e) {
      throw new OnnxSkipException("file not found: " + file, e);
    } catch (IOException e) {
      throw new OnnxSkipException("cannot read " + file + ": " + e.getMessage(), e);
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
