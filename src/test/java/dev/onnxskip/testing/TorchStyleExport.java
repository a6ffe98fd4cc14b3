package dev.onnxskip.testing;

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
 * Writes a synthetic model node for node as {@code torch.onnx.export} writes a Hugging Face model: the same
 * scopes, op order, constant nodes, parameter names, run-time computed reshape shapes and attention-mask
 * wiring as a real export (cf. all-MiniLM-L6-v2). BERT and RoBERTa share one layer body; DistilBERT has its
 * own sub-module names and builds its mask per layer with Equal/Reshape/Expand/Where, as its modeling code
 * does.
 */
final class TorchStyleExport {

  private enum Family { BERT, ROBERTA, DISTILBERT }

  private static final String INPUT_IDS = "input_ids";
  private static final String ATTENTION_MASK = "attention_mask";
  private static final String TOKEN_TYPE_IDS = "token_type_ids";
  /** torch.finfo(float32).min, which current transformers versions use as the masking value. */
  private static final float MASK_VALUE = -Float.MAX_VALUE;
  private static final float LAYER_NORM_EPSILON = 1e-12f;
  private static final int ROBERTA_PADDING_IDX = 1;

  private final Spec spec;
  private final BertWeights weights;
  private final GraphBuilder g;
  private final Family family;
  /** Scope of the base model ("" for a bare BertModel export, "/bert" inside BertForSequenceClassification). */
  private final String root;
  /** Parameter-name prefix matching {@link #root}. */
  private final String params;
  private final int headDim;

  private TorchStyleExport(Spec spec) {
    this.spec = spec;
    this.weights = BertWeights.draw(spec);
    this.g = new GraphBuilder(spec.opset());
    this.headDim = spec.hidden() / spec.heads();
    switch (spec.naming()) {
      case BERT -> { family = Family.BERT; root = "/bert"; params = "bert."; }
      case ROBERTA -> { family = Family.ROBERTA; root = "/roberta"; params = "roberta."; }
      case DISTILBERT -> { family = Family.DISTILBERT; root = "/distilbert"; params = "distilbert."; }
      default -> { family = Family.BERT; root = ""; params = ""; }
    }
  }

  /** The model with torch-style names (ANONYMOUS and SCRAMBLED get the ENCODER names, renamed later). */
  static Built export(Spec spec) {
    return new TorchStyleExport(spec).build();
  }

  private Built build() {
    declareInputs();
    List<String> boundaries = new ArrayList<>();
    String hidden;
    if (family == Family.DISTILBERT) {
      hidden = distilEmbeddings();
      boundaries.add(hidden);
      for (int i = 0; i < spec.layers(); i++) {
        hidden = distilLayer(i, hidden, finalOutputName(i));
        boundaries.add(hidden);
      }
    } else {
      String mask = extendedAttentionMask();
      hidden = bertEmbeddings();
      boundaries.add(hidden);
      for (int i = 0; i < spec.layers(); i++) {
        hidden = bertLayer(i, hidden, mask, finalOutputName(i));
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
    return new Built(g.model("torch_jit"), List.copyOf(boundaries), spec);
  }

  private String finalOutputName(int layer) {
    return layer == spec.layers() - 1 && spec.head() == Head.NONE ? spec.outputName() : null;
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

  // ---- BERT / RoBERTa ---------------------------------------------------------------------------

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
    String positionIds;
    if (family == Family.ROBERTA) {
      positionIds = robertaPositionIds(scope);
    } else {
      positionIds = sliceToSequenceLength(scope, g.initializer(prefix + "position_ids",
          new long[] {1, spec.maxPositions()}, range(spec.maxPositions())));
    }
    String tokenTypeIds = spec.tokenTypeIds() ? TOKEN_TYPE_IDS
        // BertModel falls back to its all-zero token_type_ids buffer, cut to the sequence length.
        : sliceToSequenceLength(root, g.initializer(prefix + "token_type_ids",
            new long[] {1, spec.maxPositions()}, new long[spec.maxPositions()]));
    Param tokenTypeTable = family == Family.ROBERTA
        ? weights.tokenTypeEmbeddings().firstRows(1) : weights.tokenTypeEmbeddings();

    String words = embeddingLookup(scope + "/word_embeddings", prefix + "word_embeddings.weight",
        weights.wordEmbeddings(), INPUT_IDS);
    String types = embeddingLookup(scope + "/token_type_embeddings", prefix + "token_type_embeddings.weight",
        tokenTypeTable, tokenTypeIds);
    String sum = g.op(scope, "Add", List.of(words, types));
    String positions = embeddingLookup(scope + "/position_embeddings", prefix + "position_embeddings.weight",
        weights.positionEmbeddings(), positionIds);
    String sum2 = g.op(scope, "Add", List.of(sum, positions));
    return layerNorm(scope + "/LayerNorm", sum2, prefix + "LayerNorm", weights.embeddingNorm(), null);
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

  private String bertLayer(int index, String input, String mask, String outputName) {
    String layer = root + "/encoder/layer." + index;
    String prefix = params + "encoder.layer." + index + ".";
    BertWeights.Layer w = weights.layers().get(index);
    String self = layer + "/attention/self";

    String query = linear(self + "/query", input, prefix + "attention.self.query", w.query(), null);
    String key = linear(self + "/key", input, prefix + "attention.self.key", w.key(), null);
    String keyHeads = splitHeads(self, key);
    String value = linear(self + "/value", input, prefix + "attention.self.value", w.value(), null);
    String valueHeads = g.op(self, "Transpose", List.of(splitHeads(self, value)), ints("perm", 0, 2, 1, 3));
    String queryHeads = g.op(self, "Transpose", List.of(splitHeads(self, query)), ints("perm", 0, 2, 1, 3));
    // view + transpose(1, 2) + transpose(-1, -2) folded into one permutation by the exporter
    String keyT = g.op(self, "Transpose", List.of(keyHeads), ints("perm", 0, 2, 3, 1));
    String scores = g.op(self, "MatMul", List.of(queryHeads, keyT));
    String scaled = g.op(self, "Div", List.of(scores, g.scalar(self, (float) Math.sqrt(headDim))));
    String masked = g.op(self, "Add", List.of(scaled, mask));
    String probs = g.softmaxLastAxis(self, masked);
    String context = g.op(self, "MatMul", List.of(probs, valueHeads));
    String merged = mergeHeads(self, g.op(self, "Transpose", List.of(context), ints("perm", 0, 2, 1, 3)));

    String attnOut = linear(layer + "/attention/output/dense", merged, prefix + "attention.output.dense",
        w.attentionOutput(), null);
    String residual = g.op(layer + "/attention/output", "Add", List.of(attnOut, input));
    String attnNorm = layerNorm(layer + "/attention/output/LayerNorm", residual,
        prefix + "attention.output.LayerNorm", w.attentionNorm(), null);
    String inter = linear(layer + "/intermediate/dense", attnNorm, prefix + "intermediate.dense",
        w.intermediate(), null);
    String act = gelu(layer + "/intermediate/intermediate_act_fn", inter);
    String out = linear(layer + "/output/dense", act, prefix + "output.dense", w.output(), null);
    String residual2 = g.op(layer + "/output", "Add", List.of(out, attnNorm));
    return layerNorm(layer + "/output/LayerNorm", residual2, prefix + "output.LayerNorm", w.outputNorm(),
        outputName);
  }

  /** x.view(x.size()[:-1] + (heads, head_dim)), the new shape read from x at run time unless constant. */
  private String splitHeads(String scope, String x) {
    String shape;
    if (spec.constantReshapes()) {
      shape = g.vector(scope, 0, 0, spec.heads(), headDim);
    } else {
      shape = g.op(scope, "Concat", sizesBeforeLastAxis(scope, x, spec.heads(), headDim), integer("axis", 0));
    }
    return g.op(scope, "Reshape", List.of(x, shape));
  }

  /** context.view(context.size()[:-2] + (hidden,)). */
  private String mergeHeads(String scope, String x) {
    String shape;
    if (spec.constantReshapes()) {
      shape = g.vector(scope, 0, 0, spec.hidden());
    } else {
      shape = g.op(scope, "Concat", sizesBeforeLastAxis(scope, x, spec.hidden()), integer("axis", 0));
    }
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

  // ---- DistilBERT -------------------------------------------------------------------------------

  private String distilEmbeddings() {
    String scope = root + "/embeddings";
    String prefix = params + "embeddings.";
    String words = embeddingLookup(scope + "/word_embeddings", prefix + "word_embeddings.weight",
        weights.wordEmbeddings(), INPUT_IDS);
    String positionIds = sliceToSequenceLength(scope, g.initializer(prefix + "position_ids",
        new long[] {1, spec.maxPositions()}, range(spec.maxPositions())));
    String positions = embeddingLookup(scope + "/position_embeddings", prefix + "position_embeddings.weight",
        weights.positionEmbeddings(), positionIds);
    String sum = g.op(scope, "Add", List.of(words, positions));
    return layerNorm(scope + "/LayerNorm", sum, prefix + "LayerNorm", weights.embeddingNorm(), null);
  }

  private String distilLayer(int index, String input, String outputName) {
    String layer = root + "/transformer/layer." + index;
    String prefix = params + "transformer.layer." + index + ".";
    BertWeights.Layer w = weights.layers().get(index);
    String attention = layer + "/attention";

    String batch = dimension(attention, input, 0);
    String keyLength = dimension(attention, input, 1);
    String query = distilHeads(attention, batch,
        linear(attention + "/q_lin", input, prefix + "attention.q_lin", w.query(), null));
    String key = distilHeads(attention, batch,
        linear(attention + "/k_lin", input, prefix + "attention.k_lin", w.key(), null));
    String value = distilHeads(attention, batch,
        linear(attention + "/v_lin", input, prefix + "attention.v_lin", w.value(), null));
    String queryScaled = g.op(attention, "Div", List.of(query, g.scalar(attention, (float) Math.sqrt(headDim))));
    String keyT = g.op(attention, "Transpose", List.of(key), ints("perm", 0, 1, 3, 2));
    String scores = g.op(attention, "MatMul", List.of(queryScaled, keyT));

    // mask = (mask == 0).view(bs, 1, 1, k_length).expand_as(scores); scores.masked_fill(mask, min)
    String isPadding = g.op(attention, "Equal", List.of(ATTENTION_MASK, g.scalar(attention, 0L)));
    String maskShape;
    if (spec.constantReshapes()) {
      maskShape = g.vector(attention, 0, 1, 1, -1);
    } else {
      maskShape = g.op(attention, "Concat", List.of(g.unsqueeze(attention, batch, 0), g.vector(attention, 1),
          g.vector(attention, 1), g.unsqueeze(attention, keyLength, 0)), integer("axis", 0));
    }
    String maskView = g.op(attention, "Reshape", List.of(isPadding, maskShape));
    String maskFull = g.op(attention, "Expand", List.of(maskView, g.op(attention, "Shape", List.of(scores))));
    String filled = g.op(attention, "Where", List.of(maskFull, g.scalar(attention, MASK_VALUE), scores));
    String probs = g.softmaxLastAxis(attention, filled);
    String context = g.op(attention, "MatMul", List.of(probs, value));
    String contextT = g.op(attention, "Transpose", List.of(context), ints("perm", 0, 2, 1, 3));
    String mergeShape = spec.constantReshapes() ? g.vector(attention, 0, 0, spec.hidden())
        : g.op(attention, "Concat", List.of(g.unsqueeze(attention, batch, 0), g.vector(attention, -1),
            g.vector(attention, spec.hidden())), integer("axis", 0));
    String merged = g.op(attention, "Reshape", List.of(contextT, mergeShape));
    String attnOut = linear(attention + "/out_lin", merged, prefix + "attention.out_lin", w.attentionOutput(), null);

    String saSum = g.op(layer, "Add", List.of(attnOut, input));
    String sa = layerNorm(layer + "/sa_layer_norm", saSum, prefix + "sa_layer_norm", w.attentionNorm(), null);
    String lin1 = linear(layer + "/ffn/lin1", sa, prefix + "ffn.lin1", w.intermediate(), null);
    String act = gelu(layer + "/ffn/activation", lin1);
    String lin2 = linear(layer + "/ffn/lin2", act, prefix + "ffn.lin2", w.output(), null);
    String ffnSum = g.op(layer, "Add", List.of(lin2, sa));
    return layerNorm(layer + "/output_layer_norm", ffnSum, prefix + "output_layer_norm", w.outputNorm(), outputName);
  }

  /** x.view(bs, -1, n_heads, dim_per_head).transpose(1, 2). */
  private String distilHeads(String scope, String batch, String x) {
    String shape = spec.constantReshapes() ? g.vector(scope, 0, 0, spec.heads(), headDim)
        : g.op(scope, "Concat", List.of(g.unsqueeze(scope, batch, 0), g.vector(scope, -1),
            g.vector(scope, spec.heads()), g.vector(scope, headDim)), integer("axis", 0));
    String view = g.op(scope, "Reshape", List.of(x, shape));
    return g.op(scope, "Transpose", List.of(view), ints("perm", 0, 2, 1, 3));
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
