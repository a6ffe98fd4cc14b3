package dev.onnxskip.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A word-level {@code tokenizer.json} for tests: whitespace-split words looked up in a fixed
 * vocabulary, so a test knows every token id and can build a model's inputs without the tokenizer.
 *
 * <p>Ids 0..3 are {@code [PAD]}, {@code [UNK]}, {@code [CLS]} and {@code [SEP]}; the words follow from
 * id 4 on. With {@code bert}, texts are wrapped as BERT does ({@code [CLS] a [SEP]}, pairs as
 * {@code [CLS] a [SEP] b [SEP]} with type id 1 from b on); without, a text is just its words.
 */
public record WordTokenizer(List<String> words, boolean bert) {

  public static final int PAD = 0;
  public static final int UNK = 1;
  public static final int CLS = 2;
  public static final int SEP = 3;
  public static final int FIRST_WORD = 4;

  public WordTokenizer {
    words = List.copyOf(words);
  }

  /** Words {@code w4 .. w(size-1)} with ids equal to their number: a vocabulary of {@code size} ids. */
  public static WordTokenizer numbered(int size, boolean bert) {
    List<String> words = new ArrayList<>();
    for (int id = FIRST_WORD; id < size; id++) {
      words.add("w" + id);
    }
    return new WordTokenizer(words, bert);
  }

  /** The number of token ids, specials included. */
  public int vocabularySize() {
    return FIRST_WORD + words.size();
  }

  public long id(String word) {
    int i = words.indexOf(word);
    return i < 0 ? UNK : FIRST_WORD + i;
  }

  /** The ids a text encodes to, specials included. */
  public long[] ids(String text) {
    List<Long> ids = new ArrayList<>();
    if (bert) {
      ids.add((long) CLS);
    }
    words(text).forEach(w -> ids.add(id(w)));
    if (bert) {
      ids.add((long) SEP);
    }
    return ids.stream().mapToLong(Long::longValue).toArray();
  }

  /** The ids of a pair, {@code [CLS] a [SEP] b [SEP]}, and their type ids. */
  public long[][] pairIds(String first, String second) {
    long[] a = ids(first);
    List<String> b = words(second);
    long[] ids = new long[a.length + b.size() + 1];
    long[] types = new long[ids.length];
    System.arraycopy(a, 0, ids, 0, a.length);
    for (int i = 0; i < b.size(); i++) {
      ids[a.length + i] = id(b.get(i));
      types[a.length + i] = 1;
    }
    ids[ids.length - 1] = SEP;
    types[ids.length - 1] = 1;
    return new long[][] {ids, types};
  }

  private static List<String> words(String text) {
    return List.of(text.strip().split("\\s+"));
  }

  public Path write(Path file) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    String[] specials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]"};
    for (int id = 0; id < specials.length; id++) {
      added.addObject().put("id", id).put("content", specials[id]).put("single_word", false).put("lstrip", false)
          .put("rstrip", false).put("normalized", false).put("special", true);
    }
    root.putNull("normalizer");
    root.putObject("pre_tokenizer").put("type", "Whitespace");
    if (bert) {
      ObjectNode post = root.putObject("post_processor");
      post.put("type", "BertProcessing");
      post.putArray("sep").add("[SEP]").add(SEP);
      post.putArray("cls").add("[CLS]").add(CLS);
    } else {
      root.putNull("post_processor");
    }
    root.putNull("decoder");
    ObjectNode model = root.putObject("model");
    model.put("type", "WordLevel");
    ObjectNode vocab = model.putObject("vocab");
    for (int id = 0; id < specials.length; id++) {
      vocab.put(specials[id], id);
    }
    for (int i = 0; i < words.size(); i++) {
      vocab.put(words.get(i), FIRST_WORD + i);
    }
    model.put("unk_token", "[UNK]");
    json.writeValue(file.toFile(), root);
    return file;
  }
}
