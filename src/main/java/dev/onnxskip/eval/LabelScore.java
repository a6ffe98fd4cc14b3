package dev.onnxskip.eval;

/**
 * Scores of one gold label within one variant.
 *
 * @param label the label's name
 * @param support how many examples carry this gold label
 * @param predicted how many examples were predicted as this label
 * @param accuracy the share of this label's examples predicted correctly (its recall); {@code NaN}
 *     when {@code support} is 0, because there is nothing to be right or wrong about (reports write
 *     it as {@code null} in JSON and as an empty field in CSV)
 * @param precision the share of predictions of this label that were right; 0 when the label is
 *     never predicted (no prediction of it can be right, and 0 keeps it comparable across variants)
 * @param f1 harmonic mean of precision and recall, {@code 2 tp / (support + predicted)}; 0 when the
 *     label is never predicted or never correctly predicted
 */
public record LabelScore(
    String label, long support, long predicted, double accuracy, double precision, double f1) {}
