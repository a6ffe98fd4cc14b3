package dev.onnxskip.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Labelled texts over a {@link WordTokenizer#numbered} vocabulary, for evaluating synthetic models. */
public final class SyntheticData {

  private static final ObjectMapper JSON = new ObjectMapper();

  private SyntheticData() {}

  /** {@code count} texts of 1 to 12 words drawn from words w4 .. w(vocabulary-1), deterministic from the seed. */
  public static List<String> texts(int count, int vocabulary, long seed) {
    Random random = new Random(seed);
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      StringBuilder text = new StringBuilder();
      int words = 1 + random.nextInt(12);
      for (int w = 0; w < words; w++) {
        text.append(w == 0 ? "" : " ").append('w').append(WordTokenizer.FIRST_WORD + random.nextInt(vocabulary - WordTokenizer.FIRST_WORD));
      }
      texts.add(text.toString());
    }
    return texts;
  }

  /** One JSON object per line, {"text": ..., "label": ...}, the labels taken in turn. */
  public static String jsonLines(List<String> texts, String... labels) {
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < texts.size(); i++) {
      ObjectNode line = JSON.createObjectNode().put("text", texts.get(i)).put("label", labels[i % labels.length]);
      try {
        lines.append(JSON.writeValueAsString(line)).append('\n');
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("two strings always serialize", e);
      }
    }
    return lines.toString();
  }
}
