package dev.onnxskip.rewrite;

import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.OnnxModel;
import java.nio.file.Path;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Checks a model file against the ONNX specification with the reference implementation, not with
 * the runtime we happen to test on: the full checker ({@code check_model(path, full_check=True)}),
 * then strict shape inference with data propagation, which also follows shapes computed at run
 * time. Both read the file itself, so external data is resolved as other tools resolve it.
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
    OnnxModel model = ModelIO.load(file);
    checkOpsets(model);
    String where = file + ": not valid ONNX: ";
    try {
      ReferenceOnnx.checkModel(file);
      ReferenceOnnx.inferShapesStrict(file);
    } catch (ReferenceOnnx.Failure f) {
      throw new OnnxSkipException(where + f.getMessage(), f);
    }
    SortedMap<String, Integer> unchecked = new TreeMap<>();
    var nodes = model.proto().getGraph().getNodeList();
    for (var n : nodes) {
      Node node = new Node(n);
      if (!isOnnxDomain(node.domain())) {
        unchecked.merge(node.qualifiedOpType(), 1, Integer::sum);
      }
    }
    return new Report(file, nodes.size(), unchecked);
  }

  /**
   * A model newer than the checker would fail with "No Op registered for X", which blames the
   * model; say instead that the checker is too old for it.
   */
  private static void checkOpsets(OnnxModel model) {
    for (OperatorSetIdProto o : model.proto().getOpsetImportList()) {
      if (!isOnnxDomain(o.getDomain())) {
        continue;
      }
      String domain = o.getDomain().equals("ai.onnx") ? "" : o.getDomain();
      int max = ReferenceOnnx.maxOpset(domain);
      if (o.getVersion() > max) {
        throw new OnnxSkipException(model.describe() + ": imports " + (domain.isEmpty() ? "ai.onnx" : domain) + " opset "
            + o.getVersion() + ", newer than the ONNX " + ReferenceOnnx.VERSION + " checker knows (up to " + max
            + "); it cannot be validated here");
      }
    }
  }

  private static boolean isOnnxDomain(String domain) {
    return domain.isEmpty() || domain.equals("ai.onnx") || domain.equals("ai.onnx.ml");
  }
}
