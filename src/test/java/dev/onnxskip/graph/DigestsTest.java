package dev.onnxskip.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.onnxskip.OnnxSkipException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DigestsTest {

  @TempDir Path dir;

  @Test
  void matchesKnownDigests() throws IOException {
    // FIPS 180-2 test vectors.
    Path abc = Files.writeString(dir.resolve("abc.txt"), "abc", StandardCharsets.US_ASCII);
    assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Digests.sha256(abc));
    Path empty = Files.write(dir.resolve("empty"), new byte[0]);
    assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Digests.sha256(empty));
  }

  @Test
  void streamsFilesLargerThanItsBuffer() throws Exception {
    byte[] bytes = new byte[300_001];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (i * 31);
    }
    Path file = Files.write(dir.resolve("big.bin"), bytes);
    String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    assertEquals(expected, Digests.sha256(file));
  }

  @Test
  void missingFileIsNamed() {
    Path missing = dir.resolve("absent.onnx");
    assertEquals("cannot read " + missing + ": no such file or directory",
        assertThrows(OnnxSkipException.class, () -> Digests.sha256(missing)).getMessage());
  }
}
