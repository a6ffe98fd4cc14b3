package dev.onnxskip.eval;

/**
 * One padded batch of tokenized examples, row-major, ready to become ONNX Runtime tensors.
 *
 * @param rows the dataset positions of the batch's examples, so results go back in dataset order
 * @param seqLen the padded length: the longest example of this batch, not of the data set
 */
public record TokenBatch(int[] rows, int seqLen, long[] inputIds, long[] attentionMask, long[] tokenTypeIds) {

  public int size() {
    return rows.length;
  }

  public long[] tensor(ClassifierSignature.Role role) {
    return switch (role) {
      case INPUT_IDS -> inputIds;
      case ATTENTION_MASK -> attentionMask;
      case TOKEN_TYPE_IDS -> tokenTypeIds;
    };
  }
}
