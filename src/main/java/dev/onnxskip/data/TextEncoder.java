package dev.onnxskip.data;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import ai.djl.util.PairList;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.OnnxSkipException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Tokenizes texts and text pairs with a Hugging Face {@code tokenizer.json} (through DJL's binding of
 * the Rust tokenizers library): special tokens added, truncated to a maximum length, never padded.
 *
 * <p>The file's own padding and truncation settings are overridden: a {@code tokenizer.json} exported
 * for serving often pads every text to a fixed length (MiniLM's pads to 128), which would waste most of
 * the compute on padding. Padding happens per batch instead, in {@link BatchPlan}. Truncation keeps the
 * start of a text (longest-first for pairs, as in Hugging Face).
 */
public final class TextEncoder implements AutoCloseable {

  // How many examples go through the native tokenizer at once: large enough for its thread pool,
  // small enough that the intermediate DJL objects stay few.
  private static final int CHUNK = 1024;
  // A pair side longer than this many characters per token of max length is cut before tokenizing.
  private static final int CUT_CHARS_PER_TOKEN = 8;

  private final Path file;
  private final int maxLength;
  private final int vocabularySize;
  private final long padId;
  private final HuggingFaceTokenizer tokenizer;
  private HuggingFaceTokenizer untruncated;

  private TextEncoder(Path file, int maxLength, int vocabularySize, long padId, HuggingFaceTokenizer tokenizer) {
    this.file = file;
    this.maxLength = maxLength;
    this.vocabularySize = vocabularySize;
    this.padId = padId;
    this.tokenizer = tokenizer;
  }

  /** Loads {@code tokenizerJson} to encode texts to at most {@code maxLength} tokens, special tokens included. */
  public static TextEncoder open(Path tokenizerJson, int maxLength) {
    if (maxLength < 1) {
      throw new OnnxSkipException("max length must be at least 1, got " + maxLength);
    }
    JsonNode root = readJson(tokenizerJson);
    int vocabularySize = vocabularySize(tokenizerJson, root);
    JsonNode padding = root.path("padding");
    // Padded positions are masked out, so the id hardly matters; the tokenizer's own is the natural one.
    long padId = padding.path("pad_id").canConvertToLong() ? padding.path("pad_id").asLong() : 0;
    HuggingFaceTokenizer tokenizer = load(tokenizerJson, true, maxLength);
    TextEncoder encoder = new TextEncoder(tokenizerJson, maxLength, vocabularySize, padId, tokenizer);
    try {
      // Below the number of special tokens, the tokenizers library silently stops truncating.
      encoder.encode("a");
    } catch (OnnxSkipException e) {
      encoder.close();
      throw e;
    }
    return encoder;
  }

  private static JsonNode readJson(Path file) {
    if (Files.isDirectory(file)) {
      throw new OnnxSkipException(file + " is a directory, not a tokenizer.json file");
    }
    if (!Files.isRegularFile(file)) {
      throw new OnnxSkipException("tokenizer file not found: " + file);
    }
    try {
      JsonNode root = new ObjectMapper().readTree(file.toFile());
      if (root == null || !root.isObject()) {
        throw new OnnxSkipException(file + ": not a tokenizer.json: expected a JSON object");
      }
      return root;
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null
          ? ""
          : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
      throw new OnnxSkipException(
          file + ": not a tokenizer.json: invalid JSON" + where + ": " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new OnnxSkipException("cannot read tokenizer file " + file + ": " + e.getMessage(), e);
    }
  }

  /** One more than the largest token id of the model's vocabulary and the added tokens. */
  private static int vocabularySize(Path file, JsonNode root) {
    JsonNode vocab = root.path("model").path("vocab");
    long largest = -1;
    if (vocab.isObject()) {
      // WordPiece, BPE, WordLevel: token -> id.
      for (JsonNode id : vocab) {
        largest = Math.max(largest, id.asLong(-1));
      }
    } else if (vocab.isArray()) {
      // Unigram: [[piece, score], ...], the id being the position.
      largest = vocab.size() - 1;
    } else {
      throw new OnnxSkipException(file + ": not a tokenizer.json: it has no model.vocab");
    }
    for (JsonNode added : root.path("added_tokens")) {
      largest = Math.max(largest, added.path("id").asLong(-1));
    }
    return Math.toIntExact(largest + 1);
  }

  private static HuggingFaceTokenizer load(Path file, boolean truncate, int maxLength) {
    HuggingFaceTokenizer tokenizer;
    try {
      HuggingFaceTokenizer.Builder builder =
          HuggingFaceTokenizer.builder().optTokenizerPath(file).optPadding(false).optTruncation(truncate);
      if (truncate) {
        builder.optMaxLength(maxLength);
        // DJL lowers a max length above its "model max length" (512 unless a tokenizer_config.json says
        // otherwise) to that, silently; the model's positions, not the tokenizer, decide what fits.
        builder.configure(Map.of("modelMaxLength", maxLength));
      }
      tokenizer = builder.build();
    } catch (IOException | RuntimeException e) {
      throw new OnnxSkipException(file + ": cannot load the tokenizer: " + e.getMessage(), e);
    }
    if (truncate && tokenizer.getMaxLength() != maxLength) {
      int actual = tokenizer.getMaxLength();
      tokenizer.close();
      throw new OnnxSkipException(file + ": the tokenizer truncates to " + actual + " tokens instead of the " + maxLength
          + " asked for");
    }
    return tokenizer;
  }

  public Path file() {
    return file;
  }

  public int maxLength() {
    return maxLength;
  }

  /** The number of token ids the tokenizer can emit; the model's embedding table needs as many rows. */
  public int vocabularySize() {
    return vocabularySize;
  }

  /**
   * Refuses this tokenizer for a model whose token-embedding table has fewer rows than the tokenizer
   * has ids: ONNX Runtime would fail on the first such id with a Gather error that names neither file.
   *
   * @param embeddingRows rows of the model's token-embedding table, when known
   * @param model the model, as the message names it
   */
  public void checkVocabulary(OptionalLong embeddingRows, String model) {
    if (embeddingRows.isPresent() && vocabularySize > embeddingRows.getAsLong()) {
      throw new OnnxSkipException(file + ": the tokenizer's vocabulary has " + vocabularySize
          + " tokens but the model's embedding table " + model + " has only " + embeddingRows.getAsLong()
          + " rows; token ids past it would fail at run time (wrong tokenizer for this model?)");
    }
  }

  /** The tokenizer's padding id ({@code padding.pad_id} of the file), else 0. */
  public long padId() {
    return padId;
  }

  /** Encodes one text. */
  public Encoding encode(String text) {
    return checked(call(() -> tokenizer.encode(text)));
  }

  /** Encodes a text pair: type id 0 for the first text and its special tokens, 1 for the second. */
  public Encoding encode(String text, String textPair) {
    String[] fitted = fitPair(text, textPair);
    return checked(call(() -> tokenizer.encode(fitted[0], fitted[1])));
  }

  /** Encodes every example of {@code data}, in data order, in batches through the native tokenizer. */
  public EncodedDataset encode(LabelledData data) {
    List<Example> examples = data.examples();
    List<Encoding> encodings = new ArrayList<>(examples.size());
    for (int start = 0; start < examples.size(); start += CHUNK) {
      List<Example> chunk = examples.subList(start, Math.min(examples.size(), start + CHUNK));
      ai.djl.huggingface.tokenizers.Encoding[] encoded;
      if (data.hasPairs()) {
        PairList<String, String> pairs = new PairList<>(chunk.size());
        for (Example example : chunk) {
          String[] fitted = fitPair(example.text(), example.textPair());
          pairs.add(fitted[0], fitted[1]);
        }
        encoded = call(() -> tokenizer.batchEncode(pairs));
      } else {
        List<String> texts = chunk.stream().map(Example::text).toList();
        encoded = call(() -> tokenizer.batchEncode(texts));
      }
      for (ai.djl.huggingface.tokenizers.Encoding encoding : encoded) {
        encodings.add(checked(encoding));
      }
    }
    return new EncodedDataset(encodings, maxLength, padId);
  }

  private interface NativeCall<T> {
    T run();
  }

  private <T> T call(NativeCall<T> call) {
    try {
      return call.run();
    } catch (RuntimeException e) {
      throw new OnnxSkipException(file + ": the tokenizer failed: " + e.getMessage(), e);
    }
  }

  private Encoding checked(ai.djl.huggingface.tokenizers.Encoding encoding) {
    long[] ids = encoding.getIds();
    if (ids.length > maxLength) {
      throw new OnnxSkipException(
          "max length " + maxLength + " is too small for the special tokens of " + file
              + ": an encoding needs " + ids.length + " tokens");
    }
    return new Encoding(ids, encoding.getTypeIds(), encoding.getAttentionMask());
  }

  /**
   * Shortens a pair of long texts so that the tokenizer gives exactly the tokens it would give the
   * whole texts.
   *
   * <p>The tokenizers library keeps every truncated-away window of a text as an "overflowing"
   * encoding and, for a pair, builds every combination of the two sides' windows: two texts of 100k
   * characters take minutes and gigabytes, for a result that keeps at most {@code maxLength} tokens.
   * So each long side is cut at a word start after more than {@code maxLength} of its tokens (words
   * before a word start tokenize the same in the prefix as in the whole text). Longest-first
   * truncation then keeps the same tokens, as long as the side with more tokens in full still has
   * more in the prefix (it breaks a tie of an odd budget in that side's favour): the cuts are chosen
   * to keep that order.
   */
  private String[] fitPair(String first, String second) {
    int cutChars = CUT_CHARS_PER_TOKEN * maxLength;
    if (first.length() <= cutChars && second.length() <= cutChars) {
      return new String[] {first, second};
    }
    if (untruncated == null) {
      untruncated = load(file, false, maxLength);
    }
    ai.djl.huggingface.tokenizers.Encoding a = call(() -> untruncated.encode(first, false, false));
    ai.djl.huggingface.tokenizers.Encoding b = call(() -> untruncated.encode(second, false, false));
    int floor = maxLength + 1;
    Prefix prefixA;
    Prefix prefixB;
    if (a.getIds().length > b.getIds().length) {
      prefixB = Prefix.of(second, b, floor);
      prefixA = Prefix.of(first, a, Math.max(floor, prefixB.tokens() + 1));
    } else {
      prefixA = Prefix.of(first, a, floor);
      prefixB = Prefix.of(second, b, Math.max(floor, prefixA.tokens()));
    }
    return new String[] {prefixA.text(), prefixB.text()};
  }

  /** The start of a text up to a word start, and its number of tokens. */
  private record Prefix(String text, int tokens) {

    /** The shortest prefix ending at a word start with at least {@code minTokens} tokens, else the whole text. */
    static Prefix of(String text, ai.djl.huggingface.tokenizers.Encoding whole, int minTokens) {
      long[] words = whole.getWordIds();
      CharSpan[] spans = whole.getCharTokenSpans();
      for (int token = Math.max(1, minTokens); token < words.length; token++) {
        if (words[token] != words[token - 1] && spans[token] != null) {
          // The tokenizer counts offsets in code points, Java strings in UTF-16 units.
          int end = text.offsetByCodePoints(0, spans[token].getStart());
          return new Prefix(text.substring(0, end), token);
        }
      }
      return new Prefix(text, words.length);
    }
  }

  @Override
  public void close() {
    tokenizer.close();
    if (untruncated != null) {
      untruncated.close();
    }
  }
}
