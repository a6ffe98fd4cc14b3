package dev.onnxskip.data;

import dev.onnxskip.UsageException;
import java.util.List;
import java.util.OptionalLong;

/**
 * Every example of a data set tokenized once, in data order, shared by all the model variants
 * evaluated on it.
 *
 * @param encodings one unpadded encoding per example, in data order
 * @param maxLength the length the texts were truncated to; no encoding is longer
 * @param padId the token id to pad with (the tokenizer's, else 0); padded positions are masked
 */
public record EncodedDataset(List<Encoding> encodings, int maxLength, long padId) {

  public EncodedDataset {
    encodings = List.copyOf(encodings);
    if (encodings.isEmpty()) {
      throw new IllegalArgumentException("no encodings");
    }
    for (int i = 0; i < encodings.size(); i++) {
      if (encodings.get(i).length() > maxLength) {
        throw new IllegalArgumentException(
            "encoding " + i + " has " + encodings.get(i).length() + " tokens, more than " + maxLength);
      }
    }
  }

  public int size() {
    return encodings.size();
  }

  public Encoding get(int example) {
    return encodings.get(example);
  }

  /** The token count of one example. */
  public int length(int example) {
    return encodings.get(example).length();
  }

  /** The token count of the longest example. */
  public int longest() {
    return encodings.stream().mapToInt(Encoding::length).max().orElseThrow();
  }

  /**
   * Refuses an example longer than the model's position table, naming it: ONNX Runtime would fail
   * on its batch with a broadcast error that names neither the text nor the limit.
   *
   * @param positions rows of the model's position table, when known
   * @param source the data these encodings were made from, in the same order
   */
  public void checkFits(OptionalLong positions, LabelledData source) {
    if (positions.isEmpty()) {
      return;
    }
    long limit = positions.getAsLong();
    for (int i = 0; i < size(); i++) {
      if (length(i) > limit) {
        throw new UsageException(source.where(source.examples().get(i)) + ": the text has " + length(i)
            + " tokens, more than the model's " + limit + " positions; use --max-length " + limit + " or less");
      }
    }
  }

  /** The number of tokens of all examples together, padding excluded. */
  public long tokenCount() {
    return encodings.stream().mapToLong(Encoding::length).sum();
  }
}
