package dev.onnxskip.data;

/**
 * Which columns (CSV/TSV header names) or fields (JSON Lines keys) of a data file hold the text, the
 * optional second text of a pair, and the gold label.
 *
 * @param text the column of the text to classify
 * @param textPair the column of the second text, or {@code null} for single-text tasks
 * @param label the column of the gold label
 */
public record DataColumns(String text, String textPair, String label) {

  /** {@code text} and {@code label}, no pair: the defaults of {@code onnx-skip eval}. */
  public static final DataColumns DEFAULT = new DataColumns("text", null, "label");

  public DataColumns {
    if (text == null || text.isEmpty() || label == null || label.isEmpty()) {
      throw new IllegalArgumentException("text and label column names must not be empty");
    }
    if (textPair != null && textPair.isEmpty()) {
      throw new IllegalArgumentException("text pair column name must not be empty");
    }
  }

  public boolean hasPair() {
    return textPair != null;
  }
}
