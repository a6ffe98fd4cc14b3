package dev.onnxskip.runtime;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.UsageException;
import dev.onnxskip.data.TokenRole;
import dev.onnxskip.graph.ElementType;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What a classifier graph asks for and gives: the token inputs it declares (some models have no
 * {@code token_type_ids}; some take int32) and the output holding logits of shape [batch, labels].
 *
 * @param inputs the declared run-time inputs, in graph order, with the role each one plays
 * @param logitsOutput name of the logits output
 * @param logitsWidth the number of logits, or -1 when the graph leaves that dimension symbolic
 */
public record ClassifierSignature(List<TokenInput> inputs, String logitsOutput, long logitsWidth) {

  /** One graph input: its name, its role, and whether it wants int32 instead of int64. */
  public record TokenInput(String name, TokenRole role, boolean int32) {}

  /**
   * The batch and sequence dimensions the token inputs fix (as {@code rewrite --static-shapes} writes
   * them), each empty where it is dynamic. ONNX Runtime refuses any other size, with a message that
   * names neither the flag nor the size it wants, so runs are fitted to them up front.
   */
  public record FixedDims(OptionalLong batch, OptionalLong sequence) {

    /**
     * Refuses batching settings that would give a batch of another shape, naming the flag that fits.
     *
     * @param model the model, as the message names it
     * @param examples how many examples the run batches
     * @throws UsageException naming the fixed size and the flag
     */
    public void check(String model, int batchSize, int maxLength, int examples) {
      if (sequence.isPresent() && maxLength > sequence.getAsLong()) {
        throw new UsageException(model + ": fixed sequence length " + sequence.getAsLong() + ": use --max-length "
            + sequence.getAsLong() + " or less (batches are padded to " + sequence.getAsLong() + ")");
      }
      if (batch.isPresent() && batchSize != batch.getAsLong()) {
        throw new UsageException(model + ": fixed batch size " + batch.getAsLong() + ": use --batch-size " + batch.getAsLong());
      }
      if (batch.isPresent() && examples % batch.getAsLong() != 0) {
        throw new UsageException(model + ": fixed batch size " + batch.getAsLong() + ": the " + examples
            + " examples leave a last batch of " + examples % batch.getAsLong() + ", which the model cannot take; use a multiple of "
            + batch.getAsLong() + " examples, or a model written without --static-shapes batch");
      }
    }
  }

  /** The fixed dimensions of the model's token inputs; see {@link FixedDims}. */
  public static FixedDims fixedDims(OnnxModel model) {
    return new FixedDims(fixedDim(model, 0, "batch size"), fixedDim(model, 1, "sequence length"));
  }

  private static OptionalLong fixedDim(OnnxModel model, int axis, String what) {
    OptionalLong fixed = OptionalLong.empty();
    for (TokenInput in : tokenInputs(model)) {
      OptionalLong d = model.runtimeInputs().stream().filter(v -> v.name().equals(in.name())).findFirst().orElseThrow().fixedDim(axis);
      if (d.isPresent() && fixed.isPresent() && d.getAsLong() != fixed.getAsLong()) {
        throw new OnnxSkipException(model.describe() + ": the token inputs fix different " + what + "s (" + fixed.getAsLong() + " and "
            + d.getAsLong() + " for '" + in.name() + "'); one batch feeds them all");
      }
      fixed = d.isPresent() ? d : fixed;
    }
    return fixed;
  }

  /**
   * @param logitsName the output the user named, or empty for {@code logits} or else the only 2-D
   *     float output
   */
  public static ClassifierSignature of(OnnxModel model, Optional<String> logitsName) {
    TensorInfo logits = pickLogits(model, logitsName);
    long width = logits.dims().size() == 2 ? logits.fixedDim(1).orElse(-1) : -1;
    return new ClassifierSignature(tokenInputs(model), logits.name(), width);
  }

  /** The token inputs a model declares (classifier or bare encoder), with their roles. */
  public static List<TokenInput> tokenInputs(OnnxModel model) {
    List<TokenInput> inputs = new ArrayList<>();
    for (TensorInfo v : model.runtimeInputs()) {
      boolean int32 = v.elementType() == ElementType.INT32;
      if (!int32 && v.elementType() != ElementType.INT64) {
        throw new OnnxSkipException(model.describe() + ": input '" + v.name() + "' is " + v.description()
            + "; a text classifier takes int64 or int32 token tensors");
      }
      TokenRole role = role(model, v.name());
      for (TokenInput other : inputs) {
        if (other.role() == role) {
          throw new OnnxSkipException(model.describe() + ": inputs '" + other.name() + "' and '" + v.name()
              + "' both look like " + role.name().toLowerCase(Locale.ROOT) + "; eval feeds each tokenizer output to one input");
        }
      }
      inputs.add(new TokenInput(v.name(), role, int32));
    }
    if (inputs.stream().noneMatch(i -> i.role() == TokenRole.INPUT_IDS)) {
      throw new OnnxSkipException(model.describe() + ": no input takes token ids (expected one named like input_ids)");
    }
    return List.copyOf(inputs);
  }

  private static TokenRole role(OnnxModel model, String name) {
    String n = name.toLowerCase(Locale.ROOT);
    // Checked first: "position_ids" would otherwise pass for token ids and be fed them.
    if (n.contains("position")) {
      throw new OnnxSkipException(model.describe() + ": input '" + name
          + "' takes positions, which eval does not feed; export the model with positions computed inside the graph");
    }
    if (n.contains("mask")) {
      return TokenRole.ATTENTION_MASK;
    }
    if (n.contains("type") || n.contains("segment")) {
      return TokenRole.TOKEN_TYPE_IDS;
    }
    if (n.contains("ids") || n.contains("input")) {
      return TokenRole.INPUT_IDS;
    }
    throw new OnnxSkipException(model.describe() + ": cannot tell what input '" + name
        + "' takes; expected input_ids, attention_mask or token_type_ids");
  }

  private static TensorInfo pickLogits(OnnxModel model, Optional<String> requested) {
    List<TensorInfo> outputs = model.outputs();
    if (requested.isPresent()) {
      return outputs.stream().filter(o -> o.name().equals(requested.get())).findFirst()
          .orElseThrow(() -> new UsageException("--logits-output: the model has no output '" + requested.get()
              + "'; its outputs are " + model.outputNames()));
    }
    Optional<TensorInfo> named = outputs.stream().filter(o -> o.name().equals("logits")).findFirst();
    if (named.isPresent()) {
      return named.get();
    }
    List<TensorInfo> twoD = outputs.stream()
        .filter(o -> o.elementType() == ElementType.FLOAT && o.dims().size() == 2)
        .toList();
    if (twoD.size() == 1) {
      return twoD.get(0);
    }
    throw new OnnxSkipException(model.describe() + ": no logits output: expected an output named 'logits' or exactly one 2-D float output, found "
        + outputs.stream().map(o -> o.name() + " " + o.description()).toList()
        + (twoD.isEmpty() ? " (is this an encoder without a classifier head? 'onnx-skip probe' trains one)" : "; pick one with --logits-output"));
  }
}
