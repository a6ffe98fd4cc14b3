package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.testing.SyntheticBert;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Mutated model files (bit flips, truncations, duplicated byte runs, which protobuf reads as
 * repeated fields) fed to inspect and rewrite: each case ends within its time limit in a clean
 * one-line error or in a valid result, never in a hang, a crash or an unexpected exception.
 */
class ModelFuzzTest {
  private static final byte[] SEED = SyntheticBert.build(SyntheticBert.Spec.tiny(2)).toByteArray();
  /** What Main prints for exceptions it did not expect: a type name instead of a message. */
  private static final Pattern UNEXPECTED = Pattern.compile("error: [A-Za-z.]*(Exception|Error)\\b");

  record Mutation(String kind, int a, int b, int c) {
    byte[] apply(byte[] seed) {
      return switch (kind) {
        case "flip" -> {
          byte[] out = seed.clone();
          java.util.Random r = new java.util.Random(a);
          for (int i = 0; i < 1 + b % 16; i++) {
            int bit = r.nextInt(out.length * 8);
            out[bit / 8] ^= (byte) (1 << (bit % 8));
          }
          yield out;
        }
        case "truncate" -> java.util.Arrays.copyOf(seed, a % seed.length);
        default -> {
          // Copy a run of bytes to another place: fields appear twice, or messages cut in two.
          int from = a % seed.length;
          int len = 1 + b % Math.min(2048, seed.length - from);
          int at = c % seed.length;
          byte[] out = new byte[seed.length + len];
          System.arraycopy(seed, 0, out, 0, at);
          System.arraycopy(seed, from, out, at, len);
          System.arraycopy(seed, at, out, at + len, seed.length - at);
          yield out;
        }
      };
    }
  }

  /** 1,500 mutations, each reproducible from its seed (shown in the test name). */
  static Stream<Mutation> mutations() {
    String[] kinds = {"flip", "truncate", "duplicate"};
    return IntStream.range(0, 1500).mapToObj(seed -> {
      java.util.Random r = new java.util.Random(seed);
      return new Mutation(kinds[seed % 3], r.nextInt(Integer.MAX_VALUE), r.nextInt(Integer.MAX_VALUE), r.nextInt(Integer.MAX_VALUE));
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("mutations")
  void inspectAndRewriteEndCleanly(Mutation mutation) throws IOException {
    Path dir = Files.createTempDirectory("fuzz");
    try {
      Path model = Files.write(dir.resolve("model.onnx"), mutation.apply(SEED));
      Path out = dir.resolve("variants");
      CliRun inspect = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> CliRun.of("inspect", "--json", model.toString()));
      check(inspect, mutation);
      CliRun rewrite = assertTimeoutPreemptively(Duration.ofSeconds(20),
          () -> CliRun.of("rewrite", model.toString(), "--all-spans", "-o", out.toString()));
      check(rewrite, mutation);
      if (rewrite.exit() == 0) {
        try (Stream<Path> files = Files.list(out)) {
          files.filter(f -> f.toString().endsWith(".onnx")).forEach(ModelIO::load);
        }
      } else {
        assertTrue(!Files.exists(out.resolve("manifest.json")), "a failed rewrite leaves no manifest");
      }
    } finally {
      try (Stream<Path> s = Files.walk(dir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void check(CliRun run, Mutation mutation) {
    assertTrue(run.exit() == 0 || run.exit() == 1 || run.exit() == 2, mutation + ": exit " + run.exit());
    if (run.exit() != 0) {
      assertTrue(run.oneLineError(), mutation + ": " + run.err());
      assertTrue(!UNEXPECTED.matcher(run.err()).find(), mutation + ": unexpected exception: " + run.err());
    }
  }
}
