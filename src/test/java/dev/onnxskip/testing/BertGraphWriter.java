package dev.onnxskip.testing;

import static dev.onnxskip.testing.GraphBuilder.MS_DOMAIN;
import static dev.onnxskip.testing.GraphBuilder.integer;
import static dev.onnxskip.testing.GraphBuilder.ints;
import static dev.onnxskip.testing.GraphBuilder.real;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.onnxskip.testing.BertWeights.Linear;
import dev.onnxskip.testing.BertWeights.Norm;
import dev.onnxskip.testing.BertWeights.Param;
import dev.onnxskip.testing.SyntheticBert.Built;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a synthetic model in one of two forms.
 *
 * <p>The torch form is node for node what {@code torch.onnx.export} writes for a Hugging Face model: the same
 * scopes, op order, constant nodes, parameter names, run-time computed reshape shapes and attention-mask
 * wiring as a real export (cf. all-MiniLM-L6-v2). BERT and RoBERTa share one layer body; DistilBERT has its
 * own sub-module names and builds its mask per layer with Equal/Reshape/Expand/Where, as its modeling code
 * does.
 *
 * <p>The fused form is that graph as ONNX Runtime's transformer optimizer leaves it: EmbedLayerNormalization
 * (which also turns the mask into per-row lengths), then per layer Attention with packed QKV weights, the
 * output projection's MatMul, SkipLayerNormalization (its bias input absorbing the projection's bias), the
 * intermediate MatMul, BiasGelu, the output MatMul and a second SkipLayerNormalization. As the optimizer
 * does, surviving nodes keep their torch names, fused nodes are named by op type and index, and each fused
 * node writes the tensor name of the node it replaced, so the residual stream keeps its torch names.
 */
final class BertGraphWriter {

  private enum Family { BERT, ROBERTA, DISTILBERT }

  /**
   * Scope and parameter suffixes of a layer's modules after the attention core: BERT's
   * {@code attention/output/dense} is DistilBERT's {@code attention/out_lin}, and so on. The residual Adds sit
   * in {@code attentionResidual} and {@code outputResidual}.
   */
  private record Modules(String attentionCore, String attentionCoreOutput, String attentionOutput,
      String attentionResidual, String attentionNorm, String intermediate, String activation, String output,
      String outputResidual, String outputNorm) {

    static final Modules BERT = new Modules("/attention/self", "/attention/self/Reshape_3_output_0",
        "/attention/output/dense", "/attention/output", "/attention/output/LayerNorm", "/intermediate/dense",
        "/intermediate/intermediate_act_fn", "/output/dense", "/output", "/output/LayerNorm");
    static final Modules DISTILBERT = new Modules("/attention", "/attention/Reshape_4_output_0",
        "/attention/out_lin", "", "/sa_layer_norm", "/ffn/lin1", "/ffn/activation", "/ffn/lin2", "",
        "/output_layer_norm");

    /** The parameter name of a module: {@code /attention/output/dense} is {@code attention.output.dense}. */
    static String parameter(String scope) {
      return scope.substring(1).replace('/', '.');
    }
  }

  private static final String INPUT_IDS = "input_ids";
  private static final String ATTENTION_MASK = "attention_mask";
  private static final String TOKEN_TYPE_IDS = "token_type_ids";
  /** torch.finfo(float32).min, which current transformers versions use as the masking value. */
  private static final float MASK_VALUE = -Float.MAX_VALUE;
  private static final float LAYER_NORM_EPSILON = 1e-12f;
  private static final int ROBERTA_PADDING_IDX = 1;

  private final Spec spec;
  private final boolean fused;
  private final BertWeights weights;
  private final GraphBuilder g;
  private final Family family;
  private final Modules modules;
  /** Scope of the base model ("" for a bare BertModel export, "/bert" inside BertForSequenceClassification). */
  private final String root;
  /** Parameter-name prefix matching {@link #root}. */
  private final String params;
  private final int headDim;

  private BertGraphWriter(Spec spec, boolean fused) {
    this.spec = spec;
    this.fused = fused;
    this.weights = BertWeights.draw(spec);
    this.g = new GraphBuilder(spec.opset());
    this.headDim = spec.hidden() / spec.heads();
    switch (spec.naming()) {
      case BERT -> { family = Family.BERT; root = "/bert"; params = "bert."; }
      case ROBERTA -> { family = Family.ROBERTA; root = "/roberta"; params = "roberta."; }
      case DISTILBERT -> { family = Family.DISTILBERT; root = "/distilbert"; params = "distilbert."; }
      default -> { family = Family.BERT; root = ""; params = ""; }
    }
    this.modules = family == Family.DISTILBERT ? Modules.DISTILBERT : Modules.BERT;
  }

  /** The torch form (ANONYMOUS and SCRAMBLED get the ENCODER names, renamed afterwards). */
  static Built torchExport(Spec spec) {
    return new BertGraphWriter(spec, false).build();
  }

  /** The ONNX Runtime-fused form, with the same weights as {@link #torchExport}. */
  static Built ortFused(Spec spec) {
    return new BertGraphWriter(spec, true).build();
  }

  private Built build() {
    declareInputs();
    List<String> boundaries = new ArrayList<>();
    String hidden;
    if (fused) {
      String maskIndex = "mask_index";
      hidden = fusedEmbeddings(maskIndex);
      boundaries.add(hidden);
      for (int i = 0; i < spec.layers(); i++) {
        hidden = fusedLayer(i, hidden, maskIndex);
        boundaries.add(hidden);
      }
    } else {
      // DistilBERT has no shared mask: each layer derives its own from attention_mask.
      String mask = family == Family.DISTILBERT ? null : extendedAttentionMask();
      hidden = family == Family.DISTILBERT ? distilEmbeddings() : bertEmbeddings();
      boundaries.add(hidden);
      for (int i = 0; i < spec.layers(); i++) {
        hidden = torchLayer(i, hidden, mask);
        boundaries.add(hidden);
      }
    }
    switch (spec.head()) {
      case NONE -> g.output(GraphBuilder.valueInfo(spec.outputName(), TensorProto.DataType.FLOAT,
          "batch_size", "sequence_length", spec.hidden()));
      case MEAN_POOL_CLASSIFIER -> classifierOutput(linear("/classifier", meanPool(hidden), "classifier",
          weights.classifier(), spec.outputName()));
      case CLS_CLASSIFIER -> classifierOutput(clsHead(hidden));
    }
    return new Built(g.model("torch_jit"), boundaries, spec);
  }

  private void declareInputs() {
    g.input(GraphBuilder.valueInfo(INPUT_IDS, TensorProto.DataType.INT64, "batch_size", "sequence_length"));
    g.input(GraphBuilder.valueInfo(ATTENTION_MASK, TensorProto.DataType.INT64, "batch_size", "sequence_length"));
    if (spec.tokenTypeIds()) {
      g.input(GraphBuilder.valueInfo(TOKEN_TYPE_IDS, TensorProto.DataType.INT64, "batch_size", "sequence_length"));
    }
  }

  private void classifierOutput(String logits) {
    g.output(GraphBuilder.valueInfo(logits, TensorProto.DataType.FLOAT, "batch_size", spec.numLabels()));
  }

  private String layerScope(int index) {
    return family == Family.DISTILBERT ? root + "/transformer/layer." + index : root + "/encoder/layer." + index;
  }

  private String layerParams(int index) {
    return family == Family.DISTILBERT
        ? params + "transformer.layer." + index + "." : params + "encoder.layer." + index + ".";
  }

  /** The last layer of a headless model writes the graph output directly, as the exporter names it. */
  private String layerOutputName(int index, String torchName) {
    return index == spec.layers() - 1 && spec.head() == Head.NONE ? spec.outputName() : torchName;
  }

  // ---- embeddings -------------------------------------------------------------------------------

  /** get_extended_attention_mask: computed once at the base-model scope and added to every layer's scores. */
  private String extendedAttentionMask() {
    String unsqueezed = g.unsqueeze(root, ATTENTION_MASK, 1);
    String unsqueezed2 = g.unsqueeze(root, unsqueezed, 2);
    String cast = g.op(root, "Cast", List.of(unsqueezed2), integer("to", TensorProto.DataType.FLOAT_VALUE));
    String one = g.scalar(root, 1f);
    String inverted = g.op(root, "Sub", List.of(one, cast));
    String large = g.scalar(root, MASK_VALUE);
    return g.op(root, "Mul", List.of(inverted, large));
  }

  private String bertEmbeddings() {
    String scope = root + "/embeddings";
    String prefix = params + "embeddings.";
    String positionIds = family == Family.ROBERTA ? robertaPositionIds(scope) : positionIdsBuffer(scope, prefix);
    String tokenTypeIds = spec.tokenTypeIds() ? TOKEN_TYPE_IDS
        // BertModel falls back to its all-zero token_type_ids buffer, cut to the sequence length.
        : sliceToSequenceLength(root, g.initializer(prefix + "token_type_ids",
            new long[] {1, spec.maxPositions()}, new long[spec.maxPositions()]));

    String words = embeddingLookup(scope + "/word_embeddings", prefix + "word_embeddings.weight",
        weights.wordEmbeddings(), INPUT_IDS);
    String types = embeddingLookup(scope + "/token_type_embeddings", prefix + "token_type_embeddings.weight",
        tokenTypeTable(), tokenTypeIds);
    String sum = g.op(scope, "Add", List.of(words, types));
    String positions = embeddingLookup(scope + "/position_embeddings", prefix + "position_embeddings.weight",
        weights.positionEmbeddings(), positionIds);
    String sum2 = g.op(scope, "Add", List.of(sum, positions));
    return layerNorm(scope + "/LayerNorm", sum2, prefix + "LayerNorm", weights.embeddingNorm(), null);
  }

  private String distilEmbeddings() {
    String scope = root + "/embeddings";
    String prefix = params + "embeddings.";
    String words = embeddingLookup(scope + "/word_embeddings", prefix + "word_embeddings.weight",
        weights.wordEmbeddings(), INPUT_IDS);
    String positions = embeddingLookup(scope + "/position_embeddings", prefix + "position_embeddings.weight",
        weights.positionEmbeddings(), positionIdsBuffer(scope, prefix));
    String sum = g.op(scope, "Add", List.of(words, positions));
    return layerNorm(scope + "/LayerNorm", sum, prefix + "LayerNorm", weights.embeddingNorm(), null);
  }

  /** RoBERTa has a single token type. */
  private Param tokenTypeTable() {
    return family == Family.ROBERTA ? weights.tokenTypeEmbeddings().firstRows(1) : weights.tokenTypeEmbeddings();
  }

  /** The registered position_ids buffer (0, 1, ..., maxPositions - 1) cut to the sequence length. */
  private String positionIdsBuffer(String scope, String prefix) {
    return sliceToSequenceLength(scope, g.initializer(prefix + "position_ids",
        new long[] {1, spec.maxPositions()}, range(spec.maxPositions())));
  }

  /** create_position_ids_from_input_ids: cumsum over non-padding tokens, offset by padding_idx. */
  private String robertaPositionIds(String scope) {
    String padding = g.scalar(scope, (long) ROBERTA_PADDING_IDX);
    String isPadding = g.op(scope, "Equal", List.of(INPUT_IDS, padding));
    String notPadding = g.op(scope, "Not", List.of(isPadding));
    String mask = g.op(scope, "Cast", List.of(notPadding), integer("to", TensorProto.DataType.INT32_VALUE));
    String axis = g.scalar(scope, 1L);
    String cumsum = g.op(scope, "CumSum", List.of(mask, axis));
    String typed = g.op(scope, "Cast", List.of(cumsum), integer("to", TensorProto.DataType.INT32_VALUE));
    String masked = g.op(scope, "Mul", List.of(typed, mask));
    String wide = g.op(scope, "Cast", List.of(masked), integer("to", TensorProto.DataType.INT64_VALUE));
    String offset = g.scalar(scope, (long) ROBERTA_PADDING_IDX);
    return g.op(scope, "Add", List.of(wide, offset));
  }

  /** {@code buffer[:, :seq_len]} with seq_len read from input_ids at run time. */
  private String sliceToSequenceLength(String scope, String buffer) {
    String seqLen = dimension(scope, INPUT_IDS, 1);
    String starts = g.vector(scope, 0);
    String ends = g.unsqueeze(scope, seqLen, 0);
    String axes = g.vector(scope, 1);
    String steps = g.vector(scope, 1);
    return g.op(scope, "Slice", List.of(buffer, starts, ends, axes, steps));
  }

  private String embeddingLookup(String scope, String name, Param table, String ids) {
    String weight = g.initializer(name, table.dims(), table.values());
    return g.op(scope, "Gather", List.of(weight, ids));
  }

  // ---- torch-form layers ------------------------------------------------------------------------

  private String torchLayer(int index, String input, String sharedMask) {
    String layer = layerScope(index);
    String prefix = layerParams(index);
    BertWeights.Layer w = weights.layers().get(index);
    String context = family == Family.DISTILBERT
        ? distilAttention(layer + modules.attentionCore(), prefix, w, input)
        : bertSelfAttention(layer + modules.attentionCore(), prefix, w, input, sharedMask);

    String attnOut = linear(layer + modules.attentionOutput(), context,
        prefix + Modules.parameter(modules.attentionOutput()), w.attentionOutput(), null);
    String residual = g.op(layer + modules.attentionResidual(), "Add", List.of(attnOut, input));
    String attnNorm = layerNorm(layer + modules.attentionNorm(), residual,
        prefix + Modules.parameter(modules.attentionNorm()), w.attentionNorm(), null);
    String inter = linear(layer + modules.intermediate(), attnNorm,
        prefix + Modules.parameter(modules.intermediate()), w.intermediate(), null);
    String act = gelu(layer + modules.activation(), inter);
    String out = linear(layer + modules.output(), act, prefix + Modules.parameter(modules.output()), w.output(),
        null);
    String residual2 = g.op(layer + modules.outputResidual(), "Add", List.of(out, attnNorm));
    return layerNorm(layer + modules.outputNorm(), residual2, prefix + Modules.parameter(modules.outputNorm()),
        w.outputNorm(), layerOutputName(index, null));
  }

  /** BertSelfAttention up to the merged heads, in the exporter's op order. */
  private String bertSelfAttention(String self, String prefix, BertWeights.Layer w, String input, String mask) {
    String paramPrefix = prefix + Modules.parameter(modules.attentionCore());
    String query = linear(self + "/query", input, paramPrefix + ".query", w.query(), null);
    String key = linear(self + "/key", input, paramPrefix + ".key", w.key(), null);
    String keyHeads = splitHeads(self, key);
    String value = linear(self + "/value", input, paramPrefix + ".value", w.value(), null);
    String valueHeads = g.op(self, "Transpose", List.of(splitHeads(self, value)), ints("perm", 0, 2, 1, 3));
    String queryHeads = g.op(self, "Transpose", List.of(splitHeads(self, query)), ints("perm", 0, 2, 1, 3));
    // view + transpose(1, 2) + transpose(-1, -2) folded into one permutation by the exporter
    String keyT = g.op(self, "Transpose", List.of(keyHeads), ints("perm", 0, 2, 3, 1));
    String scores = g.op(self, "MatMul", List.of(queryHeads, keyT));
    String scaled = g.op(self, "Div", List.of(scores, g.scalar(self, (float) Math.sqrt(headDim))));
    String masked = g.op(self, "Add", List.of(scaled, mask));
    String probs = g.softmaxLastAxis(self, masked);
    String context = g.op(self, "MatMul", List.of(probs, valueHeads));
    String contextT = g.op(self, "Transpose", List.of(context), ints("perm", 0, 2, 1, 3));
    String shape = spec.constantReshapes() ? g.vector(self, 0, 0, spec.hidden())
        : g.op(self, "Concat", sizesBeforeLastAxis(self, contextT, spec.hidden()), integer("axis", 0));
    return g.op(self, "Reshape", List.of(contextT, shape));
  }

  /** x.view(x.size()[:-1] + (heads, head_dim)), the new shape read from x at run time unless constant. */
  private String splitHeads(String scope, String x) {
    String shape = spec.constantReshapes() ? g.vector(scope, 0, 0, spec.heads(), headDim)
        : g.op(scope, "Concat", sizesBeforeLastAxis(scope, x, spec.heads(), headDim), integer("axis", 0));
    return g.op(scope, "Reshape", List.of(x, shape));
  }

  /**
   * The pieces of a new shape {@code (x.size(0), x.size(1), *trailing)} in the exporter's order: both sizes
   * read, then both unsqueezed, then one constant per trailing dim.
   */
  private List<String> sizesBeforeLastAxis(String scope, String x, long... trailing) {
    String batch = dimension(scope, x, 0);
    String seq = dimension(scope, x, 1);
    List<String> pieces = new ArrayList<>(List.of(g.unsqueeze(scope, batch, 0), g.unsqueeze(scope, seq, 0)));
    for (long size : trailing) {
      pieces.add(g.vector(scope, size));
    }
    return pieces;
  }

  /** DistilBERT's MultiHeadSelfAttention up to the merged heads, its mask built here from attention_mask. */
  private String distilAttention(String attention, String prefix, BertWeights.Layer w, String input) {
    String paramPrefix = prefix + Modules.parameter(modules.attentionCore());
    String batch = dimension(attention, input, 0);
    String keyLength = dimension(attention, input, 1);
    String query = distilHeads(attention, batch, linear(attention + "/q_lin", input, paramPrefix + ".q_lin",
        w.query(), null));
    String key = distilHeads(attention, batch, linear(attention + "/k_lin", input, paramPrefix + ".k_lin",
        w.key(), null));
    String value = distilHeads(attention, batch, linear(attention + "/v_lin", input, paramPrefix + ".v_lin",
        w.value(), null));
    String queryScaled = g.op(attention, "Div", List.of(query, g.scalar(attention, (float) Math.sqrt(headDim))));
    String keyT = g.op(attention, "Transpose", List.of(key), ints("perm", 0, 1, 3, 2));
    String scores = g.op(attention, "MatMul", List.of(queryScaled, keyT));

    // mask = (mask == 0).view(bs, 1, 1, k_length).expand_as(scores); scores.masked_fill(mask, min)
    String isPadding = g.op(attention, "Equal", List.of(ATTENTION_MASK, g.scalar(attention, 0L)));
    String maskShape = spec.constantReshapes() ? g.vector(attention, 0, 1, 1, -1)
        : g.op(attention, "Concat", List.of(g.unsqueeze(attention, batch, 0), g.vector(attention, 1),
            g.vector(attention, 1), g.unsqueeze(attention, keyLength, 0)), integer("axis", 0));
    String maskView = g.op(attention, "Reshape", List.of(isPadding, maskShape));
    String maskFull = g.op(attention, "Expand", List.of(maskView, g.op(attention, "Shape", List.of(scores))));
    String filled = g.op(attention, "Where", List.of(maskFull, g.scalar(attention, MASK_VALUE), scores));
    String probs = g.softmaxLastAxis(attention, filled);
    String context = g.op(attention, "MatMul", List.of(probs, value));
    String contextT = g.op(attention, "Transpose", List.of(context), ints("perm", 0, 2, 1, 3));
    String mergeShape = spec.constantReshapes() ? g.vector(attention, 0, 0, spec.hidden())
        : g.op(attention, "Concat", List.of(g.unsqueeze(attention, batch, 0), g.vector(attention, -1),
            g.vector(attention, spec.hidden())), integer("axis", 0));
    return g.op(attention, "Reshape", List.of(contextT, mergeShape));
  }

  /** x.view(bs, -1, n_heads, dim_per_head).transpose(1, 2). */
  private String distilHeads(String scope, String batch, String x) {
    String shape = spec.constantReshapes() ? g.vector(scope, 0, 0, spec.heads(), headDim)
        : g.op(scope, "Concat", List.of(g.unsqueeze(scope, batch, 0), g.vector(scope, -1),
            g.vector(scope, spec.heads()), g.vector(scope, headDim)), integer("axis", 0));
    String view = g.op(scope, "Reshape", List.of(x, shape));
    return g.op(scope, "Transpose", List.of(view), ints("perm", 0, 2, 1, 3));
  }

  // ---- fused form -------------------------------------------------------------------------------

  /**
   * EmbedLayerNormalization over int32 casts of the inputs. Its second output, the real length of each row,
   * is what Attention reads as mask_index, so the fused graph assumes trailing padding. Where the torch form
   * adds token type 0 from the all-zero buffer, that row is folded into the position table instead.
   */
  private String fusedEmbeddings(String maskIndex) {
    String scope = root + "/embeddings";
    String prefix = params + "embeddings.";
    boolean segments = spec.tokenTypeIds();
    Param positionTable = weights.positionEmbeddings();
    if (!segments && family != Family.DISTILBERT) {
      positionTable = plusRow(positionTable, weights.tokenTypeEmbeddings().values());
    }
    String ids = castToInt32(INPUT_IDS);
    String segmentIds = segments ? castToInt32(TOKEN_TYPE_IDS) : "";
    String mask = castToInt32(ATTENTION_MASK);
    List<String> inputs = new ArrayList<>(List.of(ids, segmentIds,
        g.initializer(prefix + "word_embeddings.weight", weights.wordEmbeddings().dims(),
            weights.wordEmbeddings().values()),
        g.initializer(prefix + "position_embeddings.weight", positionTable.dims(), positionTable.values()),
        segments ? g.initializer(prefix + "token_type_embeddings.weight", tokenTypeTable().dims(),
            tokenTypeTable().values()) : "",
        g.initializer(prefix + "LayerNorm.weight", weights.embeddingNorm().gamma().dims(),
            weights.embeddingNorm().gamma().values()),
        g.initializer(prefix + "LayerNorm.bias", weights.embeddingNorm().beta().dims(),
            weights.embeddingNorm().beta().values()),
        mask));
    if (family == Family.ROBERTA) {
      inputs.add(castToInt32(robertaPositionIds(scope)));
    }
    String output = layerNormOutputName(scope + "/LayerNorm");
    g.addNode(ortNodeName("EmbedLayerNormalization"), "EmbedLayerNormalization", MS_DOMAIN, inputs,
        List.of(output, maskIndex), real("epsilon", LAYER_NORM_EPSILON));
    return output;
  }

  private String fusedLayer(int index, String input, String maskIndex) {
    String layer = layerScope(index);
    String prefix = layerParams(index);
    BertWeights.Layer w = weights.layers().get(index);

    String attentionName = ortNodeName("Attention");
    String qkvWeight = g.initializer(attentionName + "_qkv_weight", new long[] {spec.hidden(), 3L * spec.hidden()},
        packColumns(spec.hidden(), w.query().weight(), w.key().weight(), w.value().weight()));
    String qkvBias = g.initializer(attentionName + "_qkv_bias", new long[] {3L * spec.hidden()},
        packColumns(1, w.query().bias(), w.key().bias(), w.value().bias()));
    String context = layer + modules.attentionCoreOutput();
    g.addNode(attentionName, "Attention", MS_DOMAIN, List.of(input, qkvWeight, qkvBias, maskIndex),
        List.of(context), integer("num_heads", spec.heads()));

    String attnOut = g.op(layer + modules.attentionOutput(), "MatMul", List.of(context,
        g.matMulWeight(w.attentionOutput().weight().dims(), w.attentionOutput().weight().values())));
    String attnNorm = skipLayerNorm(attnOut, input, prefix + Modules.parameter(modules.attentionOutput()),
        w.attentionOutput().bias(), prefix + Modules.parameter(modules.attentionNorm()), w.attentionNorm(),
        layerNormOutputName(layer + modules.attentionNorm()));

    String inter = g.op(layer + modules.intermediate(), "MatMul", List.of(attnNorm,
        g.matMulWeight(w.intermediate().weight().dims(), w.intermediate().weight().values())));
    String interBias = g.initializer(prefix + Modules.parameter(modules.intermediate()) + ".bias",
        w.intermediate().bias().dims(), w.intermediate().bias().values());
    String act = layer + modules.activation() + "/Mul_1_output_0";
    g.addNode(ortNodeName("BiasGelu"), "BiasGelu", MS_DOMAIN, List.of(inter, interBias), List.of(act));

    String out = g.op(layer + modules.output(), "MatMul", List.of(act,
        g.matMulWeight(w.output().weight().dims(), w.output().weight().values())));
    return skipLayerNorm(out, attnNorm, prefix + Modules.parameter(modules.output()), w.output().bias(),
        prefix + Modules.parameter(modules.outputNorm()), w.outputNorm(),
        layerOutputName(index, layerNormOutputName(layer + modules.outputNorm())));
  }

  /** LayerNorm(input + skip + bias); output 0 is the residual stream. */
  private String skipLayerNorm(String input, String skip, String biasPrefix, Param bias, String normPrefix,
      Norm norm, String output) {
    String gamma = g.initializer(normPrefix + ".weight", norm.gamma().dims(), norm.gamma().values());
    String beta = g.initializer(normPrefix + ".bias", norm.beta().dims(), norm.beta().values());
    String biasName = g.initializer(biasPrefix + ".bias", bias.dims(), bias.values());
    g.addNode(ortNodeName("SkipLayerNormalization"), "SkipLayerNormalization", MS_DOMAIN,
        List.of(input, skip, gamma, beta, biasName), List.of(output), real("epsilon", LAYER_NORM_EPSILON));
    return output;
  }

  /** The name the torch form gives a layer norm's output, which the fused node replacing it keeps. */
  private String layerNormOutputName(String scope) {
    return scope + (spec.layerNorm() == SyntheticBert.LayerNorm.OP
        ? "/LayerNormalization_output_0" : "/Add_1_output_0");
  }

  private String castToInt32(String int64Tensor) {
    String output = int64Tensor + "_int32";
    g.addNode(ortNodeName("Cast"), "Cast", "", List.of(int64Tensor), List.of(output),
        integer("to", TensorProto.DataType.INT32_VALUE));
    return output;
  }

  /** The optimizer's naming of nodes it creates: op type, underscore, running index. */
  private String ortNodeName(String opType) {
    return g.nextIndexedName(opType);
  }

  /**
   * Packs {@code [rows, w]} matrices side by side into {@code [rows, w * parts]}, the layout of Attention's
   * QKV weight (and, with one row, of its bias).
   */
  private static float[] packColumns(int rows, Param... parts) {
    int width = parts[0].values().length / rows;
    float[] packed = new float[rows * width * parts.length];
    for (int r = 0; r < rows; r++) {
      for (int p = 0; p < parts.length; p++) {
        System.arraycopy(parts[p].values(), r * width, packed, (r * parts.length + p) * width, width);
      }
    }
    return packed;
  }

  /** Adds the first row of {@code rowSource} to every row of {@code table}. */
  private static Param plusRow(Param table, float[] rowSource) {
    int width = (int) table.dims()[1];
    float[] sum = table.values().clone();
    for (int i = 0; i < sum.length; i++) {
      sum[i] += rowSource[i % width];
    }
    return new Param(table.dims(), sum);
  }

  // ---- heads ------------------------------------------------------------------------------------

  /** sentence-transformers mean pooling: sum(h * mask) / clamp(sum(mask), 1e-9). */
  private String meanPool(String hidden) {
    String scope = "/pooling";
    String mask = g.unsqueeze(scope, ATTENTION_MASK, -1);
    String expanded = g.op(scope, "Expand", List.of(mask, g.op(scope, "Shape", List.of(hidden))));
    String maskF = g.op(scope, "Cast", List.of(expanded), integer("to", TensorProto.DataType.FLOAT_VALUE));
    String sum = g.reduceSum(scope, g.op(scope, "Mul", List.of(hidden, maskF)), 1, false);
    String count = g.reduceSum(scope, maskF, 1, false);
    String clamped = g.op(scope, "Clip", List.of(count, g.scalar(scope, 1e-9f)));
    return g.op(scope, "Div", List.of(sum, clamped));
  }

  /** hidden[:, 0] through the family's own classification head. */
  private String clsHead(String hidden) {
    String logits = spec.outputName();
    switch (family) {
      case ROBERTA -> { // RobertaClassificationHead: dense, tanh, out_proj
        String first = firstToken("/classifier", hidden);
        String dense = linear("/classifier/dense", first, "classifier.dense", weights.pooler(), null);
        String act = g.op("/classifier", "Tanh", List.of(dense));
        return linear("/classifier/out_proj", act, "classifier.out_proj", weights.classifier(), logits);
      }
      case DISTILBERT -> { // pre_classifier, ReLU, classifier
        String first = firstToken("", hidden);
        String dense = linear("/pre_classifier", first, "pre_classifier", weights.pooler(), null);
        String act = g.op("", "Relu", List.of(dense));
        return linear("/classifier", act, "classifier", weights.classifier(), logits);
      }
      default -> { // BertPooler (dense + tanh) then the classifier
        String first = firstToken(root + "/pooler", hidden);
        String dense = linear(root + "/pooler/dense", first, params + "pooler.dense", weights.pooler(), null);
        String act = g.op(root + "/pooler/activation", "Tanh", List.of(dense));
        return linear("/classifier", act, "classifier", weights.classifier(), logits);
      }
    }
  }

  private String firstToken(String scope, String hidden) {
    return g.op(scope, "Gather", List.of(hidden, g.scalar(scope, 0L)), integer("axis", 1));
  }

  // ---- building blocks --------------------------------------------------------------------------

  /** torch Linear: MatMul with the transposed weight, then Add with the bias first, as the exporter writes it. */
  private String linear(String scope, String x, String paramPrefix, Linear linear, String outputName) {
    String bias = g.initializer(paramPrefix + ".bias", linear.bias().dims(), linear.bias().values());
    String weight = g.matMulWeight(linear.weight().dims(), linear.weight().values());
    String product = g.op(scope, "MatMul", List.of(x, weight));
    return g.op(scope, "Add", List.of(bias, product), outputName);
  }

  private String layerNorm(String scope, String x, String paramPrefix, Norm norm, String outputName) {
    String gamma = g.initializer(paramPrefix + ".weight", norm.gamma().dims(), norm.gamma().values());
    String beta = g.initializer(paramPrefix + ".bias", norm.beta().dims(), norm.beta().values());
    if (spec.layerNorm() == SyntheticBert.LayerNorm.OP) {
      return g.op(scope, "LayerNormalization", List.of(x, gamma, beta), outputName,
          integer("axis", -1), real("epsilon", LAYER_NORM_EPSILON));
    }
    String mean = g.reduceMeanLastAxis(scope, x);
    String centered = g.op(scope, "Sub", List.of(x, mean));
    String squared = g.op(scope, "Pow", List.of(centered, g.scalar(scope, 2f)));
    String variance = g.reduceMeanLastAxis(scope, squared);
    String shifted = g.op(scope, "Add", List.of(variance, g.scalar(scope, LAYER_NORM_EPSILON)));
    String std = g.op(scope, "Sqrt", List.of(shifted));
    String normalized = g.op(scope, "Div", List.of(centered, std));
    String scaled = g.op(scope, "Mul", List.of(normalized, gamma));
    return g.op(scope, "Add", List.of(scaled, beta), outputName);
  }

  /** Exact GELU as torch exports it: x * 0.5 * (1 + erf(x / sqrt 2)), in the exporter's operand order. */
  private String gelu(String scope, String x) {
    String div = g.op(scope, "Div", List.of(x, g.scalar(scope, (float) Math.sqrt(2))));
    String erf = g.op(scope, "Erf", List.of(div));
    String plusOne = g.op(scope, "Add", List.of(erf, g.scalar(scope, 1f)));
    String product = g.op(scope, "Mul", List.of(x, plusOne));
    return g.op(scope, "Mul", List.of(product, g.scalar(scope, 0.5f)));
  }

  /** x.size(axis) as a scalar int64, via Shape and Gather. */
  private String dimension(String scope, String x, long axis) {
    String shape = g.op(scope, "Shape", List.of(x));
    return g.op(scope, "Gather", List.of(shape, g.scalar(scope, axis)), integer("axis", 0));
  }

  private static long[] range(int n) {
    long[] values = new long[n];
    for (int i = 0; i < n; i++) {
      values[i] = i;
    }
    return values;
  }
}
