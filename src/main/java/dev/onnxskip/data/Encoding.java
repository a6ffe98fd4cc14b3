package dev.onnxskip.data;

import java.util.Arrays;

/**
 * The model input of one example, unpadded: token ids, token type ids (0 for the first text, 1 for
 * the second of a pair) and the attention mask, all of the same length. Immutable: the arrays are
 * copied in and out.
 */
public record Encoding(long[] ids, long[] typeIds, long[] mask) {

  public Encoding {
    if (ids.length == 0 || ids.length != typeIds.length || ids.length != mask.length) {
      throw new IllegalArgumentException(
          "ids, type ids and mask must have the same non-zero length, got "
              + ids.length + ", " + typeIds.length + ", " + mask.length);
    }
    ids = ids.clone();
    typeIds = typeIds.clone();
    mask = mask.clone();
  }

  /** The number of tokens. */
  public int length() {
    return ids.length;
  }

  @Override
  public long[] ids() {
    return ids.clone();
  }

  @Override
  public long[] typeIds() {
    return typeIds.clone();
  }

  @Override
  public long[] mask() {
    return mask.clone();
  }

  /** Copies this encoding into row-major batch arrays starting at {@code offset}, without copying it first. */
  void copyInto(long[] batchIds, long[] batchTypeIds, long[] batchMask, int offset) {
    System.arraycopy(ids, 0, batchIds, offset, ids.length);
    System.arraycopy(typeIds, 0, batchTypeIds, offset, typeIds.length);
    System.arraycopy(mask, 0, batchMask, offset, mask.length);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Encoding that
        && Arrays.equals(ids, that.ids)
        && Arrays.equals(typeIds, that.typeIds)
        && Arrays.equals(mask, that.mask);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * Arrays.hashCode(ids) + Arrays.hashCode(typeIds)) + Arrays.hashCode(mask);
  }

  @Override
  public String toString() {
    return "Encoding[ids=" + Arrays.toString(ids) + ", typeIds=" + Arrays.toString(typeIds)
        + ", mask=" + Arrays.toString(mask) + "]";
  }
}
