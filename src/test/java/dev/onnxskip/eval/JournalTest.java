package dev.onnxskip.eval;


import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.UsageException;
import dev.onnxskip.graph.Digests;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.ClassifierOutputs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {

  static final Journal.Entry BASELINE = new Journal.Entry(Variant.BASELINE, new int[] {2, 0}, new float[][] {{0.5f, -1}, {3, 4}});
  static final Journal.Entry SPAN = new Journal.Entry(new SkipSpan(1, 2), new int[] {1}, new float[][] {{7, 8}});

  @TempDir Path dir;

  /** A run key of one setting, {@code name}. */
  static RunKey key(String name) {
    return RunKey.of(Map.of("name", name));
  }

  Path journal() {
    return dir.resolve(Journal.FILE);
  }

  void write(String key, Journal.Entry... entries) {
    try (Journal journal = Journal.open(dir, key(key), false, false)) {
      journal.append(List.of(entries));
    }
  }

  static void assertSame(Journal.Entry expected, Journal.Entry actual) {
    assertEquals(expected.variant(), actual.variant());
    assertArrayEquals(expected.rows(), actual.rows());
    assertEquals(expected.logits().length, actual.logits().length);
    for (int i = 0; i < expected.logits().length; i++) {
      assertArrayEquals(expected.logits()[i], actual.logits()[i]);
    }
  }

  @Test
  void featuresAreReadBackBitForBitAndAMangledFeatureFieldIsNotAnEntry() throws java.io.IOException {
    float[][] features = {{1.1f, -0f, Float.MIN_VALUE, Float.NaN}, {3e38f, -2.5f, Float.NEGATIVE_INFINITY, 7}};
    Journal.Entry withFeatures = new Journal.Entry(new SkipSpan(0, 1), new int[] {3, 1},
        ClassifierOutputs.logitsOnly(new float[][] {{1, 2}, {3, 4}}).with(ClassifierOutputs.Extra.HEAD_FEATURES, features));
    write("key", withFeatures);
    try (Journal journal = Journal.open(dir, key("key"), true, false)) {
      float[][] back = journal.done().get(0).outputs().features().orElseThrow();
      for (int i = 0; i < features.length; i++) {
        for (int j = 0; j < features[i].length; j++) {
          assertEquals(Float.floatToRawIntBits(features[i][j]), Float.floatToRawIntBits(back[i][j]), "row " + i + ", feature " + j);
        }
      }
      assertTrue(journal.done().get(0).outputs().features().isPresent());
    }
    String text = Files.readString(journal());
    Files.writeString(journal(), text.replace("\"width\":4", "\"width\":3"));
    UsageException e = assertThrows(UsageException.class, () -> Journal.open(dir, key("key"), true, false).close());
    assertTrue(e.getMessage().contains("line 2 is not a journal entry"), e.getMessage());
  }

  @Test
  void resumingReadsBackWhatWasAppended() {
    write("key", BASELINE, SPAN);
    try (Journal journal = Journal.open(dir, key("key"), true, false)) {
      assertEquals(2, journal.done().size());
      assertSame(BASELINE, journal.done().get(0));
      assertSame(SPAN, journal.done().get(1));
    }
  }

  @Test
  void nonFiniteLogitsSurviveAResume() {
    Journal.Entry odd = new Journal.Entry(new SkipSpan(0, 0), new int[] {4, 0, 7},
        new float[][] {{Float.NaN, 1.5f}, {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}, {-0.0f, Float.MIN_VALUE}});
    write("key", odd);
    try (Journal journal = Journal.open(dir, key("key"), true, false)) {
      assertSame(odd, journal.done().get(0));
    }
  }

  @Test
  void aLineCutShortByAKillIsDroppedAndTheJournalGoesOn() throws IOException {
    write("key", BASELINE);
    String whole = Files.readString(journal());
    Files.writeString(journal(), "{\"span\":[1,2],\"rows\":[1],\"logi", StandardOpenOption.APPEND);
    try (Journal journal = Journal.open(dir, key("key"), true, false)) {
      assertEquals(1, journal.done().size());
      assertEquals(whole, Files.readString(journal()), "the broken tail is cut off");
      journal.append(List.of(SPAN));
    }
    try (Journal journal = Journal.open(dir, key("key"), true, false)) {
      assertEquals(2, journal.done().size());
      assertSame(SPAN, journal.done().get(1));
    }
  }

  @Test
  void anEarlierRunIsNeitherResumedNorOverwrittenUnlessAskedTo() throws IOException {
    write("key", BASELINE);
    byte[] before = Files.readAllBytes(journal());
    UsageException refused = assertThrows(UsageException.class, () -> Journal.open(dir, key("key"), false, false));
    assertEquals("output folder " + dir + " holds an earlier run (journal.jsonl); use --resume to continue it or --force to start over",
        refused.getMessage());
    UsageException otherKey = assertThrows(UsageException.class, () -> Journal.open(dir, key("another key"), true, false));
    assertEquals("cannot resume: " + journal() + " was written for another run: name (key before, another key now); use --force to start over",
        otherKey.getMessage());
    assertArrayEquals(before, Files.readAllBytes(journal()));
    try (Journal journal = Journal.open(dir, key("another key"), false, true)) {
      assertEquals(List.of(), journal.done(), "--force starts over");
    }
    try (Journal journal = Journal.open(dir, key("another key"), true, false)) {
      assertEquals(List.of(), journal.done());
    }
  }

  @Test
  void aDamagedJournalIsRefusedNamingTheLine() throws IOException {
    write("key", BASELINE);
    Files.writeString(journal(), "{\"span\":\"2-3\",\"rows\":[1],\"logits\":[[1,2]]}\n", StandardOpenOption.APPEND);
    UsageException e = assertThrows(UsageException.class, () -> Journal.open(dir, key("key"), true, false));
    assertEquals("cannot resume: " + journal() + " line 3 is not a journal entry; use --force to start over", e.getMessage());

    Files.delete(journal());
    write("key", BASELINE);
    Files.writeString(journal(), "{\"span\":[2,1],\"rows\":[1],\"logits\":[[1,2]]}\n", StandardOpenOption.APPEND);
    e = assertThrows(UsageException.class, () -> Journal.open(dir, key("key"), true, false));
    assertEquals("cannot resume: " + journal() + " line 3 is not a journal entry; use --force to start over", e.getMessage());

    Files.write(journal(), "not json\n".getBytes(StandardCharsets.UTF_8));
    e = assertThrows(UsageException.class, () -> Journal.open(dir, key("key"), true, false));
    assertEquals("cannot resume: " + journal() + " has no valid header; use --force to start over", e.getMessage());
  }

  @Test
  void anEmptyJournalIsAFreshStart() throws IOException {
    Files.createFile(journal());
    try (Journal journal = Journal.open(dir, key("key"), false, false)) {
      assertEquals(List.of(), journal.done());
    }
    assertEquals(header("key"), Files.readString(journal()));
  }

  @Test
  void aJournalWithoutFinishedWorkIsStartedOverWithoutAsking() throws IOException {
    // What a run that failed, or was killed, before finishing anything leaves behind.
    write("old key");
    Files.writeString(journal(), "{\"span\":null,\"ro", StandardOpenOption.APPEND);
    try (Journal journal = Journal.open(dir, key("new key"), false, false)) {
      assertEquals(List.of(), journal.done());
    }
    assertEquals(header("new key"), Files.readString(journal()));
  }

  /** The header a fresh journal of {@link #key}{@code (name)} starts with: the key's digest, then its entries. */
  private static String header(String name) {
    String entries = "{\"name\":\"" + name + "\"}";
    return "{\"journal\":\"onnx-skip eval\",\"run_key\":\"" + Digests.sha256(entries.getBytes(StandardCharsets.UTF_8))
        + "\",\"key\":" + entries + "}\n";
  }
}
