package dev.onnxskip.rewrite;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.Domains;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.layout.LayoutDetector;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Checks a model file against the ONNX specification with the reference implementation, not with
 * the runtime we happen to test on: the full checker ({@code check_model(path, full_check=True)}),
 * then strict shape inference with data propagation, which also follows shapes computed at run
 * time. Models with external data are checked from their path, so the checker resolves the weights
 * files as other tools do.
 *
 * <p>The reference implementation knows only the ONNX domains. Nodes of other domains, such as
 * ONNX Runtime's {@code com.microsoft} fused operators, are checked for structure (names, inputs,
 * attributes, an opset import for their domain) but not against a schema; the report lists them.
 */
public final class Validator {
  private Validator() {}

  /**
   * What a passed validation covered.
   *
   * @param uncheckedOps operators without an ONNX schema, qualified by domain, with their node counts
   */
  public record Report(Path file, int nodes, SortedMap<String, Integer> uncheckedOps) {

    public Report {
      uncheckedOps = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(uncheckedOps));
    }

    public int uncheckedNodes() {
      return uncheckedOps.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** One line for people: what passed, and what the checker could not look into. */
    public String describe() {
      String base = file + ": valid ONNX (" + checker() + ")";
      if (uncheckedOps.isEmpty()) {
        return base;
      }
      StringBuilder ops = new StringBuilder();
      uncheckedOps.forEach((op, n) -> ops.append(ops.length() == 0 ? "" : ", ").append(op).append(" x").append(n));
      return base + "; " + uncheckedNodes() + " of " + nodes + " nodes are outside the ONNX domains and were checked"
          + " for structure only, as the ONNX checker has no schema for them: " + ops;
    }
  }

  /** What the validation runs, for messages. */
  public static String checker() {
    return "ONNX " + ReferenceOnnx.VERSION + " checker, full check; strict shape inference with data propagation";
  }

  /**
   * @throws OnnxSkipException naming the file and, on one line, what the checker or shape inference
   *     found; unreadable and truncated files fail as they do everywhere else in the tool
   */
  public static Report validate(Path file) {
    Optional<ReferenceOnnx.Parsed> parsed = ReferenceOnnx.Parsed.of(file);
    if (parsed.isEmpty() || !parsed.get().looksLikeModel()) {
      parsed.ifPresent(ReferenceOnnx.Parsed::close);
      // The tool's own loader says best what is wrong with a file that is not a model.
      ModelIO.load(file);
      throw new OnnxSkipException(file + ": the ONNX library cannot parse this model");
    }
    try (ReferenceOnnx.Parsed model = parsed.get()) {
      checkOpsets(file, model.opsets());
      try {
        if (model.hasExternalData()) {
          // Only the path tells the checker where external data lives. Such a file holds the
          // graph alone, so the library's slow path loader costs little; the tool's loader
          // first names missing or short weight files.
          ModelIO.load(file);
          ReferenceOnnx.checkModel(file);
          ReferenceOnnx.inferShapesStrict(file);
        } else {
          model.checkModel();
          model.inferShapesStrict();
        }
      } catch (ReferenceOnnx.Failure f) {
        throw new OnnxSkipException(file + ": not valid ONNX: " + f.getMessage(), f);
      }
      model.fixedSequence().ifPresent(sequence -> checkSequenceFitsPositions(file, sequence));
      SortedMap<String, Integer> unchecked = new TreeMap<>();
      List<String[]> ops = model.domainsAndOps();
      for (String[] op : ops) {
        if (!isOnnxDomain(op[0])) {
          unchecked.merge(op[0] + "." + op[1], 1, Integer::sum);
        }
      }
      return new Report(file, ops.size(), unchecked);
    }
  }

  /**
   * A fixed sequence longer than the position table passes the checker and shape inference when the
   * graph computes its position ids, and fails only at run time: the tool's own look at the table
   * catches it.
   */
  private static void checkSequenceFitsPositions(Path file, long sequence) {
    OptionalLong positions = LayoutDetector.maxPositions(ModelIO.load(file));
    if (positions.isPresent() && sequence > positions.getAsLong()) {
      throw new OnnxSkipException(file + ": not usable: its inputs fix the sequence length at " + sequence
          + ", more than its " + positions.getAsLong() + " positions");
    }
  }

  /**
   * A model newer than the checker would fail with "No Op registered for X", which blames the
   * model; say instead that the checker is too old for it.
   */
  private static void checkOpsets(Path file, Map<String, Long> opsets) {
    for (Map.Entry<String, Long> o : opsets.entrySet()) {
      if (!isOnnxDomain(o.getKey())) {
        continue;
      }
      String domain = Domains.isDefault(o.getKey()) ? "" : o.getKey();
      int max = ReferenceOnnx.maxOpset(domain);
      if (o.getValue() > max) {
        throw new OnnxSkipException(file + ": imports " + (domain.isEmpty() ? Domains.DEFAULT : domain) + " opset "
            + o.getValue() + ", newer than the ONNX " + ReferenceOnnx.VERSION + " checker knows (up to " + max
            + "); it cannot be validated here");
      }
    }
  }

  private static boolean isOnnxDomain(String domain) {
    return Domains.isDefault(domain) || domain.equals("ai.onnx.ml");
  }
}
