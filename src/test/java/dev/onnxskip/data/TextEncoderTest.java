package dev.onnxskip.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.onnxskip.OnnxSkipException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextEncoderTest {

  static final Path TOKENIZER = Path.of("models/minilm-l6/tokenizer.json");

  static TextEncoder encoder;

  @TempDir Path dir;

  @BeforeAll
  static void open() {
    encoder = TextEncoder.open(TOKENIZER, 128);
  }

  @AfterAll
  static void close() {
    encoder.close();
  }

  private static long[] repeat(long value, int times) {
    long[] values = new long[times];
    Arrays.fill(values, value);
    return values;
  }

  /** The word-piece ids of {@code text} without [CLS] and [SEP]. */
  private static long[] pieces(String text) {
    long[] ids = encoder.encode(text).ids();
    return Arrays.copyOfRange(ids, 1, ids.length - 1);
  }

  private static long[] concat(long[]... parts) {
    return Arrays.stream(parts).flatMapToLong(LongStream::of).toArray();
  }

  @Test
  void encodesTheKnownIdsWithoutPadding() {
    Encoding encoding = encoder.encode("Hello world, this is a test.");
    assertArrayEquals(new long[] {101, 7592, 2088, 1010, 2023, 2003, 1037, 3231, 1012, 102}, encoding.ids());
    assertArrayEquals(repeat(0, 10), encoding.typeIds());
    assertArrayEquals(repeat(1, 10), encoding.mask());
  }

  @Test
  void pairsGetTypeIdsZeroThenOne() {
    Encoding encoding = encoder.encode("Hello world", "this is a test.");
    long[] first = pieces("Hello world");
    long[] second = pieces("this is a test.");
    assertArrayEquals(concat(new long[] {101}, first, new long[] {102}, second, new long[] {102}), encoding.ids());
    assertArrayEquals(
        concat(repeat(0, first.length + 2), repeat(1, second.length + 1)), encoding.typeIds());
    assertArrayEquals(repeat(1, encoding.length()), encoding.mask());
  }

  @Test
  void aHugeTextIsTruncatedToMaxLengthKeepingItsStart() {
    String huge = "The quick brown fox jumps over the lazy dog. ".repeat(2300);
    assertTrue(huge.length() > 100_000);
    Encoding encoding = encoder.encode(huge);

    assertEquals(128, encoding.length());
    long[] sentence = pieces("The quick brown fox jumps over the lazy dog.");
    long[] ids = encoding.ids();
    assertArrayEquals(concat(new long[] {101}, sentence), Arrays.copyOf(ids, 1 + sentence.length));
    assertEquals(102, ids[127]);
  }

  /**
   * The tokenizer library lowers a max length above 512 (its default "model max length") to 512;
   * the length asked for is what counts, for texts and pairs. The sentence is 10 tokens, so 100 of
   * them with [CLS] and [SEP] are 1,002.
   */
  @Test
  void aMaxLengthAbove512IsKeptAsAskedFor() {
    String sentence = "The quick brown fox jumps over the lazy dog.";
    String long100 = (sentence + " ").repeat(100);
    try (TextEncoder wide = TextEncoder.open(TOKENIZER, 1500)) {
      assertEquals(1500, wide.maxLength());
      assertEquals(1002, wide.encode(long100).length());
      assertEquals(1500, wide.encode(long100, long100).length());
    }
    try (TextEncoder cut = TextEncoder.open(TOKENIZER, 600)) {
      Encoding encoding = cut.encode(long100);
      assertEquals(600, encoding.length());
      assertEquals(102, encoding.ids()[599]);
    }
  }

  @Test
  void aPairOfHugeTextsIsTruncatedQuickly() {
    // Both sides far longer than max length: the tokenizers library alone takes minutes here.
    String first = "alpha beta gamma. ".repeat(6000);
    String second = "delta epsilon. ".repeat(7000);
    Encoding encoding = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> encoder.encode(first, second));

    assertEquals(128, encoding.length());
    long[] typeIds = encoding.typeIds();
    int firstSide = (int) Arrays.stream(typeIds).filter(t -> t == 0).count();
    // 125 tokens of text: the longer side in tokens gets the odd one.
    int firstTokens = pieces("alpha beta gamma.").length * 6000;
    int secondTokens = pieces("delta epsilon.").length * 7000;
    assertTrue(firstTokens != secondTokens);
    assertEquals(2 + (firstTokens > secondTokens ? 63 : 62), firstSide);
  }

  /**
   * Cutting long pair texts before tokenizing must not change a single token: compare with the
   * tokenizers library truncating the whole texts itself (max length 16 keeps that affordable).
   */
  @Test
  void cutPairsEncodeExactlyLikeTheWholeTexts() throws IOException {
    String[] words = {
      "the", "unaffable", "Café", "naïve", "fox", ",", "jumps", "über", "😀", "中文", "don't", "re-enter",
      "tokenization", "x", "supercalifragilistic", "(", ")", "42", "3.14"
    };
    Random random = new Random(7);
    List<String[]> pairs = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      pairs.add(new String[] {randomText(random, words, 20 + random.nextInt(60)),
          randomText(random, words, 20 + random.nextInt(60))});
    }
    // Equal token counts on both sides, and counts one apart, around the odd budget of 13 tokens.
    pairs.add(new String[] {"word ".repeat(40), "thing ".repeat(40)});
    pairs.add(new String[] {"word ".repeat(41), "thing ".repeat(40)});
    pairs.add(new String[] {"word ".repeat(40), "thing ".repeat(41)});
    pairs.add(new String[] {"short", "thing ".repeat(60)});
    pairs.add(new String[] {"word ".repeat(60), "a b"});

    try (TextEncoder small = TextEncoder.open(TOKENIZER, 16);
        HuggingFaceTokenizer reference = HuggingFaceTokenizer.builder()
            .optTokenizerPath(TOKENIZER).optPadding(false).optTruncation(true).optMaxLength(16).build()) {
      for (String[] pair : pairs) {
        assertTrue(pair[0].length() > 128 || pair[1].length() > 128, "not long enough to be cut");
        var expected = reference.encode(pair[0], pair[1]);
        Encoding actual = small.encode(pair[0], pair[1]);
        assertArrayEquals(expected.getIds(), actual.ids(), () -> Arrays.toString(pair));
        assertArrayEquals(expected.getTypeIds(), actual.typeIds(), () -> Arrays.toString(pair));
      }
    }
  }

  private static String randomText(Random random, String[] words, int count) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < count; i++) {
      text.append(words[random.nextInt(words.length)]).append(random.nextInt(5) == 0 ? "  " : " ");
    }
    return text.toString();
  }

  @Test
  void encodesADataSetInDataOrderLikeOneByOne() throws IOException {
    Path file = Files.writeString(dir.resolve("dev.jsonl"), """
        {"text": "A gorgeous, witty, seductive movie.", "label": 1}
        {"text": "Dull.", "label": 0}
        {"text": "It is not a bad film, but the ending drags on and on and on.", "label": 0}
        """);
    LabelledData data = LabelledData.read(file, DataColumns.DEFAULT);
    EncodedDataset encoded = encoder.encode(data);

    assertEquals(3, encoded.size());
    assertEquals(128, encoded.maxLength());
    assertEquals(0, encoded.padId());
    for (int i = 0; i < data.size(); i++) {
      assertEquals(encoder.encode(data.examples().get(i).text()), encoded.get(i));
    }
    assertEquals(4, encoded.length(1));
    assertEquals(encoded.length(2), encoded.longest());
  }

  @Test
  void encodesAPairDataSetLikeOneByOne() throws IOException {
    Path file = Files.writeString(dir.resolve("pairs.tsv"),
        "premise\thypothesis\tlabel\n"
            + "A man sleeps.\tNobody sleeps.\tcontradiction\n"
            + "A dog runs in the park.\tAn animal moves.\tentailment\n"
            + "long " .repeat(3000) + "\t" + "longer ".repeat(4000) + "\tneutral\n");
    LabelledData data = LabelledData.read(file, new DataColumns("premise", "hypothesis", "label"));
    EncodedDataset encoded = encoder.encode(data);

    for (int i = 0; i < data.size(); i++) {
      Example example = data.examples().get(i);
      assertEquals(encoder.encode(example.text(), example.textPair()), encoded.get(i));
    }
    assertEquals(128, encoded.length(2));
  }

  @Test
  void reportsVocabularySizeAndPadId() {
    // The bert-base-uncased word-piece vocabulary MiniLM shares.
    assertEquals(30522, encoder.vocabularySize());
    assertEquals(0, encoder.padId());
  }

  @Test
  void vocabularySizeCountsAddedTokens() throws IOException {
    Path file = Files.writeString(dir.resolve("tokenizer.json"), """
        {"version": "1.0", "truncation": null,
         "padding": {"strategy": "BatchLongest", "direction": "Right", "pad_to_multiple_of": null,
                     "pad_id": 3, "pad_type_id": 0, "pad_token": "[PAD]"},
         "added_tokens": [{"id": 5, "content": "[SPECIAL]", "single_word": false, "lstrip": false,
                           "rstrip": false, "normalized": false, "special": true}],
         "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null,
         "decoder": null,
         "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "hello": 1, "world": 2, "[PAD]": 3},
                   "unk_token": "[UNK]"}}
        """);
    try (TextEncoder tiny = TextEncoder.open(file, 8)) {
      assertEquals(6, tiny.vocabularySize());
      assertEquals(3, tiny.padId());
      assertArrayEquals(new long[] {1, 2, 0}, tiny.encode("hello world again").ids());
    }
  }

  @Test
  void missingOrUnreadableTokenizerIsNamed() throws IOException {
    Path missing = dir.resolve("absent.json");
    assertEquals("tokenizer file not found: " + missing,
        assertThrows(OnnxSkipException.class, () -> TextEncoder.open(missing, 128)).getMessage());

    assertEquals(dir + " is a directory, not a tokenizer.json file",
        assertThrows(OnnxSkipException.class, () -> TextEncoder.open(dir, 128)).getMessage());

    Path truncated = Files.writeString(dir.resolve("cut.json"), "{\"version\": \"1.0\",\n \"model\": ");
    String message = assertThrows(OnnxSkipException.class, () -> TextEncoder.open(truncated, 128)).getMessage();
    assertTrue(message.startsWith(truncated + ": not a tokenizer.json: invalid JSON at line 2"), message);

    Path noVocab = Files.writeString(dir.resolve("novocab.json"), "{\"model\": {\"type\": \"WordPiece\"}}");
    assertEquals(noVocab + ": not a tokenizer.json: it has no model.vocab",
        assertThrows(OnnxSkipException.class, () -> TextEncoder.open(noVocab, 128)).getMessage());

    Path broken = Files.writeString(dir.resolve("broken.json"), "{\"model\": {\"vocab\": {\"a\": 0}}}");
    message = assertThrows(OnnxSkipException.class, () -> TextEncoder.open(broken, 128)).getMessage();
    assertTrue(message.startsWith(broken + ": cannot load the tokenizer: "), message);
  }

  @Test
  void maxLengthBelowTheSpecialTokensIsRejected() {
    assertEquals(
        "max length 1 is too small for the special tokens of " + TOKENIZER + ": an encoding needs 3 tokens",
        assertThrows(OnnxSkipException.class, () -> TextEncoder.open(TOKENIZER, 1)).getMessage());
    try (TextEncoder two = TextEncoder.open(TOKENIZER, 2)) {
      assertArrayEquals(new long[] {101, 102}, two.encode("hello").ids());
      assertThrows(OnnxSkipException.class, () -> two.encode("hello", "world"));
    }
  }
}
