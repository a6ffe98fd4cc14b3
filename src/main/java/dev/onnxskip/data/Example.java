package dev.onnxskip.data;

/**
 * One labelled example as read from a data file.
 *
 * @param line the 1-based line of the file where the example starts, for error messages
 * @param text the text to classify, never empty
 * @param textPair the second text of a sentence-pair task, or {@code null} for single texts
 * @param label the gold label as written in the file (a JSON integer {@code 1} becomes {@code "1"})
 */
public record Example(int line, String text, String textPair, String label) {

  public Example {
    if (line < 1) {
      throw new IllegalArgumentException("line must be >= 1, got " + line);
    }
    if (text == null || label == null) {
      throw new IllegalArgumentException("text and label are required (line " + line + ")");
    }
  }

  public boolean isPair() {
    return textPair != null;
  }
}
