package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.testing.StreamedBert;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Models whose every weight lives in an external-data file run in both engines, small and over 2 GB. */
class ExternalWeightsEvalTest {

  @Test
  void aSmallModelWithAllItsWeightsExternal(@TempDir Path dir) throws Exception {
    new ExternalWeightsRun(new StreamedBert.Spec(4, 64, 4, 128, 64, 32, 2, 3), "1-2,3-3", "skip-1-2.onnx").check(dir);
  }

  /**
   * 19 layers at hidden size 1536: 2.15 GB of float weights, just over protobuf's 2 GB limit. Its
   * own target, make test-large: it writes and reads the weights several times and needs about
   * 4.5 GB of temporary disk.
   */
  @Test
  @Tag("large")
  void aModelOver2Gb(@TempDir Path dir) throws Exception {
    StreamedBert.Spec spec = new StreamedBert.Spec(19, 1536, 12, 6144, 512, 64, 2, 7);
    assertTrue(spec.weightBytes() > Integer.MAX_VALUE, "the weights exceed 2 GB");
    new ExternalWeightsRun(spec, "3-5,10-10", "skip-03-05.onnx").check(dir);
  }
}
