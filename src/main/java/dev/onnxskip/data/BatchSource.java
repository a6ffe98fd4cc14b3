package dev.onnxskip.data;

/**
 * The batches of a tokenized data set, built on demand so that memory holds one padded batch at a
 * time, however large the data set and however many variants run over it.
 */
public interface BatchSource {
  int batchCount();

  /** Builds batch {@code i}; its rows say which examples it holds. */
  Batch batch(int i);

  /** The number of examples over all batches. */
  int exampleCount();
}
