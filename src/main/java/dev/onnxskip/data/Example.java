package dev.onnxskip.data;

/**
 * One labelled example as read from a data file.
 *
 * @param line the 1-based line of the file where the example starts (its element number in a JSON
 *     array), for error messages
 * @param id what names the example in predictions.jsonl: the data's {@code id} field or column, or
 *     else {@code line}
 * @param text the text to classify, never empty
 * @param textPair the second text of a sentence-pair task, or {@code null} for single texts
 * @param label the gold label as written in the file (a JSON integer {@code 1} becomes {@code "1"})
 */
public record Example(int line, Id id, String text, String textPair, String label) {

  /** The name of the field or column that holds an example's id. */
  public static final String ID_FIELD = "id";

  /**
   * An example's id: a whole number (a JSON integer, or the line number where the data has no id),
   * or any other value as its text.
   *
   * @param number whether {@code value} is a whole number that fits a {@code long}, to write as a JSON number
   */
  public record Id(String value, boolean number) {

    public Id {
      if (value == null) {
        throw new IllegalArgumentException("an id needs a value");
      }
      if (number) {
        Long.parseLong(value);
      }
    }

    public static Id of(long number) {
      return new Id(Long.toString(number), true);
    }

    public static Id of(String text) {
      return new Id(text, false);
    }
  }

  public Example {
    if (line < 1) {
      throw new IllegalArgumentException("line must be >= 1, got " + line);
    }
    if (id == null || text == null || label == null) {
      throw new IllegalArgumentException("id, text and label are required (line " + line + ")");
    }
  }

  /** An example without an id of its own: its line names it. */
  public Example(int line, String text, String textPair, String label) {
    this(line, Id.of(line), text, textPair, label);
  }

  public boolean isPair() {
    return textPair != null;
  }
}
