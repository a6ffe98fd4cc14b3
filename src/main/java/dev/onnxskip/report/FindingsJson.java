package dev.onnxskip.report;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.onnxskip.eval.Findings;
import dev.onnxskip.stats.BalancedAccuracy;
import dev.onnxskip.stats.HeadRefit;
import dev.onnxskip.stats.MinimumDetectableChange;
import dev.onnxskip.stats.PairedBootstrap;
import dev.onnxskip.stats.Wilson;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The {@code findings} of a variant in results.json: per label and overall, the accuracy's Wilson
 * interval, AUROC, recalibrated and refit-head accuracy, balanced accuracy and, against the baseline, the McNemar test with its Holm
 * correction and the bootstrap interval of the change; and the predicted label distribution.
 */
final class FindingsJson {
  private FindingsJson() {}

  /** The settings the statistics were computed with, for the top of results.json. */
  static ObjectNode settings(Findings f) {
    Findings.Settings s = f.settings();
    ObjectNode node = ResultsJson.MAPPER.createObjectNode();
    node.put("alpha", s.alpha());
    node.put("bootstrap_resamples", s.bootstrap());
    node.put("bootstrap_seed", Findings.BOOTSTRAP_SEED);
    if (f.folds() > 0) {
      node.put("recalibration_folds", f.folds());
    } else {
      node.putNull("recalibration_folds");
    }
    node.put("interval_confidence", Wilson.DEFAULT_CONFIDENCE);
    node.put("detectable_change_power", MinimumDetectableChange.DEFAULT_POWER);
    node.put("holm_family", "every span's test against the baseline, per label and overall");
    ObjectNode refit = node.putObject("head_refit");
    refit.put("computed", f.headRefit().computed());
    refit.put(f.headRefit().computed() ? "reads" : "absent_because", f.headRefit().note());
    if (f.headRefit().computed()) {
      refit.put("model", "L2 logistic regression (liblinear), standardised features, cross-fitted over the recalibration folds");
      refit.put("c", HeadRefit.C);
    }
    return node;
  }

  static ObjectNode of(Findings.VariantFindings v, List<String> labels) {
    ObjectNode node = ResultsJson.MAPPER.createObjectNode();
    node.set("overall", figures(v.overall()));
    if (v.balanced().isPresent()) {
      BalancedAccuracy b = v.balanced().get();
      ObjectNode balanced = node.putObject("balanced_accuracy");
      balanced.put("value", b.value());
      balanced.putArray("interval").add(b.lower()).add(b.upper());
      balanced.put("effective_examples", b.effectiveTrials());
    } else {
      node.putNull("balanced_accuracy");
    }
    ObjectNode perLabel = node.putObject("per_label");
    v.groups().subList(0, labels.size()).forEach(f -> perLabel.set(f.group(), figures(f)));
    ObjectNode share = node.putObject("predicted_share");
    for (int c = 0; c < labels.size(); c++) {
      share.put(labels.get(c), v.predictedShare()[c]);
    }
    putDouble(node, "predicted_kl_from_gold", Double.isInfinite(v.klFromGold()) ? OptionalDouble.empty()
        : OptionalDouble.of(v.klFromGold()));
    return node;
  }

  private static ObjectNode figures(Findings.Figures f) {
    ObjectNode node = ResultsJson.MAPPER.createObjectNode();
    node.put("support", f.support());
    putDouble(node, "accuracy", f.accuracy());
    interval(node, "accuracy_interval", f.interval().map(w -> new double[] {w.lower(), w.upper()}));
    putDouble(node, "auroc", f.auroc());
    putDouble(node, "recalibrated_accuracy", f.recalibratedAccuracy());
    putDouble(node, "refit_accuracy", f.refitAccuracy());
    f.change().ifPresent(c -> {
      ObjectNode change = node.putObject("vs_baseline");
      change.put("fixed", c.test().fixed());
      change.put("broken", c.test().broken());
      change.put("churn", c.churn());
      change.put("p", c.test().pValue());
      change.put("p_holm", c.holm());
      change.put("significant", c.significant());
      Optional<PairedBootstrap> b = c.interval();
      interval(change, "change_interval", b.map(i -> new double[] {i.lower(), i.upper()}));
    });
    f.detectable().ifPresent(d -> {
      ObjectNode detectable = node.putObject("minimum_detectable_change");
      putDouble(detectable, "drop", d.drop());
      putDouble(detectable, "rise", d.rise());
    });
    return node;
  }

  private static void interval(ObjectNode node, String field, Optional<double[]> bounds) {
    if (bounds.isPresent()) {
      node.putArray(field).add(bounds.get()[0]).add(bounds.get()[1]);
    } else {
      node.putNull(field);
    }
  }

  private static void putDouble(ObjectNode node, String field, OptionalDouble value) {
    if (value.isPresent()) {
      node.put(field, value.getAsDouble());
    } else {
      node.putNull(field);
    }
  }
}
