package dev.onnxskip.data;


/**
 * One padded batch of model inputs: {@code batchSize} rows of {@code seqLen} tokens, flat and
 * row-major, ready for {@code OnnxTensor.createTensor(env, LongBuffer.wrap(batch.ids()), batch.shape())}.
 * Padded positions hold the pad id, mask 0 and type id 0.
 *
 * <p>The arrays are built for this batch alone by {@link BatchPlan#batch(int)} and handed out without
 * copying, so that a batch costs one allocation per input; nothing else holds them.
 */
public final class Batch {

  private final int index;
  private final int[] exampleIndices;
  private final int seqLen;
  private final long[] ids;
  private final long[] mask;
  private final long[] typeIds;

  /** A batch built elsewhere, e.g. sent to another machine as plain arrays: the arrays are taken as they are. */
  public Batch(int index, int[] exampleIndices, int seqLen, long[] ids, long[] mask, long[] typeIds) {
    this.index = index;
    this.exampleIndices = exampleIndices;
    this.seqLen = seqLen;
    this.ids = ids;
    this.mask = mask;
    this.typeIds = typeIds;
  }

  /** The position of this batch in its plan. */
  public int index() {
    return index;
  }

  /** The number of rows (examples) of this batch; the last batch of a plan may be smaller. */
  public int batchSize() {
    return exampleIndices.length;
  }

  /** The padded length of every row. */
  public int seqLen() {
    return seqLen;
  }

  /** {@code {batchSize, seqLen}}, the tensor shape. */
  public long[] shape() {
    return new long[] {exampleIndices.length, seqLen};
  }

  /** The data-set index of the example in {@code row}: where its prediction goes back to. */
  public int exampleIndex(int row) {
    return exampleIndices[row];
  }

  /** The data-set indices of the examples, row by row. */
  public int[] exampleIndices() {
    return exampleIndices.clone();
  }

  public long[] ids() {
    return ids;
  }

  public long[] mask() {
    return mask;
  }

  public long[] typeIds() {
    return typeIds;
  }

  /** The input tensor a model input of this role reads. */
  public long[] tensor(TokenRole role) {
    return switch (role) {
      case INPUT_IDS -> ids;
      case ATTENTION_MASK -> mask;
      case TOKEN_TYPE_IDS -> typeIds;
    };
  }

  /** The same values as int32, for models that declare int32 inputs. */
  public static int[] toInt32(long[] values) {
    int[] narrowed = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      narrowed[i] = Math.toIntExact(values[i]);
    }
    return narrowed;
  }
}
