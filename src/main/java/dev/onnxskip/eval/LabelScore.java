package dev.onnxskip.eval;

/**
 * Scores of one gold label within one variant.
 *
 * <p>A score that is undefined for the label is {@code NaN} ({@code null} in JSON, an empty field in
 * CSV), not 0: a label without gold examples has no accuracy and no F1, and a precision only if it was
 * predicted. Only labels with gold examples take part in averages such as macro-F1.
 *
 * @param label the label's name
 * @param support how many examples carry this gold label
 * @param predicted how many examples were predicted as this label
 * @param accuracy the share of this label's examples predicted correctly (its recall); undefined when
 *     {@code support} is 0, because there is nothing to be right or wrong about
 * @param precision the share of predictions of this label that were right; 0 when the label has
 *     examples but is never predicted (the model finds none of them, the usual convention, which
 *     keeps variants comparable), undefined when the label has neither examples nor predictions
 * @param f1 harmonic mean of precision and recall, {@code 2 tp / (support + predicted)}; 0 when the
 *     label has examples but none is predicted correctly, undefined when it has no examples (no recall)
 */
public record LabelScore(
    String label, long support, long predicted, double accuracy, double precision, double f1) {}
