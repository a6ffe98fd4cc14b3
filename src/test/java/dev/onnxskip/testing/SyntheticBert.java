package dev.onnxskip.testing;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Small, realistic, synthetic BERT-like ONNX models for tests, built in memory from a {@link Spec}.
 *
 * <p>The graphs mirror what {@code torch.onnx.export} writes for Hugging Face encoders (all-MiniLM-L6-v2 was
 * the model studied): torch-style scoped node names ({@code /encoder/layer.0/attention/self/query/MatMul}),
 * output names ({@code /encoder/layer.0/output/LayerNorm/Add_1_output_0}), Linear layers as MatMul with an
 * {@code onnx::MatMul_N} weight plus an Add whose first operand is the PyTorch-named bias, scalars as Constant
 * nodes, reshape shapes computed at run time through Shape/Gather/Unsqueeze/Concat, the extended attention
 * mask computed once from {@code attention_mask} and added in every layer, exact (Erf) GELU, and the last
 * layer writing {@code last_hidden_state} directly. A six-layer ENCODER/DECOMPOSED build is, node for node
 * and name for name, the graph of the real all-MiniLM-L6-v2 export (only the sizes and weight values
 * differ; SyntheticBertTest pins this). Weights are random but deterministic from the seed, and do not
 * depend on naming, layer-norm form or head, so a spec's namings all compute the same function.
 *
 * <p>{@link #fused} writes the same model as ONNX Runtime's transformer optimizer leaves it (com.microsoft
 * EmbedLayerNormalization, Attention, SkipLayerNormalization, BiasGelu).
 *
 * <p>Every build comes with its ground truth: the names of the residual-stream tensors between layers
 * ({@link Built#boundaries()}), which encoder-block detection tests compare against.
 */
public final class SyntheticBert {

  private SyntheticBert() {}

  /** How nodes, tensors and parameters are named; also selects the family's own graph details. */
  public enum Naming {
    /** {@code /encoder/layer.N/...}, parameters {@code encoder.layer.N...}: a bare BertModel export like MiniLM. */
    ENCODER,
    /** {@code /bert/encoder/layer.N/...}: a BertFor... task model. */
    BERT,
    /** {@code /roberta/encoder/layer.N/...}; position ids computed from input_ids (CumSum), one token type. */
    ROBERTA,
    /**
     * {@code /distilbert/transformer/layer.N/...} with DistilBERT's sub-modules (attention/q_lin, sa_layer_norm,
     * ffn/lin1, output_layer_norm). No token type embeddings, and each layer builds its own mask from
     * {@code attention_mask} with Equal/Reshape/Expand/Where, as DistilBERT's modeling code does.
     */
    DISTILBERT,
    /** The ENCODER graph with every node and every tensor other than graph inputs/outputs named by a number. */
    ANONYMOUS,
    /**
     * The ENCODER graph with random hex names from the seed; about one name in five is a plausible but wrong
     * torch name (e.g. a node called {@code /encoder/layer.9/output/LayerNorm/Add_1} somewhere else entirely),
     * to catch detectors that trust names.
     */
    SCRAMBLED
  }

  public enum LayerNorm {
    /** Opset 11, as torch exports it there: ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add. */
    DECOMPOSED,
    /** Opset 17 {@code LayerNormalization}. */
    OP
  }

  public enum Head {
    /** Output {@code last_hidden_state}, float [batch_size, sequence_length, hidden]. */
    NONE,
    /** Masked mean pooling, then MatMul + Add to {@code logits}, float [batch_size, numLabels]. */
    MEAN_POOL_CLASSIFIER,
    /**
     * The first token through the family's head to {@code logits}: BERT's pooler (dense + tanh) and
     * classifier, RoBERTa's classification head (dense, tanh, out_proj), DistilBERT's pre_classifier + ReLU
     * and classifier.
     */
    CLS_CLASSIFIER
  }

  /**
   * What to build.
   *
   * @param constantReshapes write the attention reshape shapes as constants ({@code [0, 0, heads, headDim]},
   *     {@code [0, 0, hidden]}; 0 copies the input dim) instead of computing them at run time. Some exporters
   *     write them so, and ONNX Runtime's fusions need them constant.
   */
  public record Spec(int layers, int hidden, int heads, int intermediate, int vocab, int maxPositions,
      Naming naming, LayerNorm layerNorm, boolean tokenTypeIds, Head head, int numLabels, long seed,
      boolean constantReshapes) {

    public Spec {
      require(layers >= 1, "layers must be >= 1");
      require(heads >= 1 && hidden >= heads && hidden % heads == 0, "hidden must be a positive multiple of heads");
      require(intermediate >= 1, "intermediate must be >= 1");
      require(vocab >= 3, "vocab must be >= 3 (padding ids and at least one real token)");
      require(maxPositions >= 3, "maxPositions must be >= 3");
      require(naming != null && layerNorm != null && head != null, "naming, layerNorm and head are required");
      require(numLabels >= 1, "numLabels must be >= 1");
      require(!(naming == Naming.DISTILBERT && tokenTypeIds), "DistilBERT has no token_type_ids");
    }

    /** The spec without the constant-reshape option, i.e. reshape shapes computed at run time. */
    public Spec(int layers, int hidden, int heads, int intermediate, int vocab, int maxPositions,
        Naming naming, LayerNorm layerNorm, boolean tokenTypeIds, Head head, int numLabels, long seed) {
      this(layers, hidden, heads, intermediate, vocab, maxPositions, naming, layerNorm, tokenTypeIds, head,
          numLabels, seed, false);
    }

    /** Hidden 16, 2 heads, intermediate 32, vocab 64, 64 positions, ENCODER, DECOMPOSED, token types, no head. */
    public static Spec tiny(int layers) {
      return new Spec(layers, 16, 2, 32, 64, 64, Naming.ENCODER, LayerNorm.DECOMPOSED, true, Head.NONE, 2, 1);
    }

    public Spec withLayers(int layers) {
      return new Spec(layers, hidden, heads, intermediate, vocab, maxPositions, naming, layerNorm, tokenTypeIds,
          head, numLabels, seed, constantReshapes);
    }

    /** A different width with the same number of heads. */
    public Spec withHidden(int hidden) {
      return new Spec(layers, hidden, heads, intermediate, vocab, maxPositions, naming, layerNorm, tokenTypeIds,
          head, numLabels, seed, constantReshapes);
    }

    public Spec withHeads(int heads) {
      return new Spec(layers, hidden, heads, intermediate, vocab, maxPositions, naming, layerNorm, tokenTypeIds,
          head, numLabels, seed, constantReshapes);
    }

    public Spec withIntermediate(int intermediate) {
      return new Spec(layers, hidden, heads, intermediate, vocab, maxPositions, naming, layerNorm, tokenTypeIds,
          head, numLabels, seed, constantReshapes);
    }

    public Spec withVocab(int vocab) {
      return new Spec(layers, hidden, heads, intermediate, vocab, maxPositions, naming, layerNorm, tokenTypeIds,
          head, numLabels, seed, constantReshapes);
    }

    public Spec withMaxPositions(int maxPositions) {
      return new Spec(layers, hidden, heads, intermediate, vocab, maxPositions, naming, layerNorm, tokenTypeIds,
          head, numLabels, seed, constantReshapes);
    }

    /** Switching to DISTILBERT also drops token_type_ids, which DistilBERT does not have. */
    public Spec withNaming(Naming naming) {
      boolean types = tokenTypeIds && naming != Naming.DISTILBERT;
      return new Spec(layers, hidden, heads, intermediate, vocab, maxPositions, naming, layerNorm, types,
          head, numLabels, seed, constantReshapes);
    }

    public Spec withLayerNorm(LayerNorm layerNorm) {
      return new Spec(layers, hidden, heads, intermediate, vocab, maxPositions, naming, layerNorm, tokenTypeIds,
          head, numLabels, seed, constantReshapes);
    }

    public Spec withTokenTypeIds(boolean tokenTypeIds) {
      return new Spec(layers, hidden, heads, intermediate, vocab, maxPositions, naming, layerNorm, tokenTypeIds,
          head, numLabels, seed, constantReshapes);
    }

    public Spec withHead(Head head, int numLabels) {
      return new Spec(layers, hidden, heads, intermediate, vocab, maxPositions, naming, layerNorm, tokenTypeIds,
          head, numLabels, seed, constantReshapes);
    }

    public Spec withSeed(long seed) {
      return new Spec(layers, hidden, heads, intermediate, vocab, maxPositions, naming, layerNorm, tokenTypeIds,
          head, numLabels, seed, constantReshapes);
    }

    public Spec withConstantReshapes(boolean constantReshapes) {
      return new Spec(layers, hidden, heads, intermediate, vocab, maxPositions, naming, layerNorm, tokenTypeIds,
          head, numLabels, seed, constantReshapes);
    }

    /** 11 for the decomposed layer norm, 17 for the LayerNormalization op. */
    public int opset() {
      return layerNorm == LayerNorm.OP ? 17 : 11;
    }

    /** {@code last_hidden_state} without a head, {@code logits} with one. */
    public String outputName() {
      return head == Head.NONE ? "last_hidden_state" : "logits";
    }

    /** The id of padding tokens: 1 for RoBERTa, 0 otherwise. */
    public long paddingId() {
      return naming == Naming.ROBERTA ? 1 : 0;
    }

    private static void require(boolean condition, String message) {
      if (!condition) {
        throw new IllegalArgumentException(message);
      }
    }
  }

  /**
   * A model and its ground truth.
   *
   * @param boundaries the residual-stream tensors: element k is the input of layer k (k = 0 is the embeddings'
   *     output), element {@code spec.layers()} the output of the last layer
   */
  public record Built(ModelProto model, List<String> boundaries, Spec spec) {
    public Built {
      boundaries = List.copyOf(boundaries);
    }
  }

  /**
   * Model inputs, one row per sequence, trailing padding.
   *
   * @param tokenTypeIds null when the spec has no token_type_ids input
   */
  public record Inputs(long[][] inputIds, long[][] attentionMask, long[][] tokenTypeIds) {

    /** The number of real (unmasked) tokens of each row. */
    public int[] lengths() {
      int[] lengths = new int[attentionMask.length];
      for (int r = 0; r < attentionMask.length; r++) {
        for (long m : attentionMask[r]) {
          lengths[r] += (int) m;
        }
      }
      return lengths;
    }

    /** ONNX Runtime tensors by input name; the caller closes them. */
    public Map<String, OnnxTensor> toTensors(OrtEnvironment env) throws OrtException {
      Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
      tensors.put("input_ids", OnnxTensor.createTensor(env, inputIds));
      tensors.put("attention_mask", OnnxTensor.createTensor(env, attentionMask));
      if (tokenTypeIds != null) {
        tensors.put("token_type_ids", OnnxTensor.createTensor(env, tokenTypeIds));
      }
      return tensors;
    }
  }

  public static ModelProto build(Spec spec) {
    return buildWithTruth(spec).model();
  }

  public static Built buildWithTruth(Spec spec) {
    return named(BertGraphWriter.torchExport(spec));
  }

  /** The ONNX Runtime-fused twin of {@link #build}; see {@link #fusedWithTruth}. */
  public static ModelProto fused(Spec spec) {
    return fusedWithTruth(spec).model();
  }

  /**
   * The model of {@link #build} with the weights of the same spec, as ONNX Runtime's transformer optimizer
   * leaves it: {@code EmbedLayerNormalization}; per layer {@code Attention} (packed QKV), the output
   * projection's MatMul, {@code SkipLayerNormalization}, the intermediate MatMul, {@code BiasGelu}, the output
   * MatMul and a second {@code SkipLayerNormalization}, whose output 0 is the residual stream and thus the
   * boundary; the head as in {@link #build}. Attention reads the per-row lengths that EmbedLayerNormalization
   * derives from attention_mask, so padding must be trailing, as in {@link #randomInputs}.
   *
   * <p>Why it is written directly rather than saved from an ONNX Runtime session
   * ({@code setOptimizationLevel(EXTENDED_OPT)} + {@code setOptimizedModelFilePath}): tried on these graphs
   * with ONNX Runtime 1.29, in either layer-norm form and with or without constant reshape shapes, the session
   * optimizer produces only LayerNormalization, BiasGelu and FusedMatMul. Its SkipLayerNormalization fusion
   * requires every dim but the batch to be fixed, which a model with a symbolic sequence_length never has,
   * and its Attention fusion only matches an older export pattern (bias as the second Add operand, a -10000
   * mask, opset-11 Unsqueeze). Models users bring with these ops come from the offline Python optimizer,
   * whose output this mirrors.
   */
  public static Built fusedWithTruth(Spec spec) {
    return named(BertGraphWriter.ortFused(spec));
  }

  private static Built named(Built torchNamed) {
    return switch (torchNamed.spec().naming()) {
      case ANONYMOUS -> Renaming.anonymous(torchNamed);
      case SCRAMBLED -> Renaming.scrambled(torchNamed);
      default -> torchNamed;
    };
  }

  /**
   * Random inputs, deterministic from {@code seed}. Row 0 is full length; the other rows have different real
   * lengths where {@code seqLen} allows, padded at the end with the padding id and mask 0. Real tokens are
   * drawn from {@code [2, vocab)}, so they never collide with a padding id. With token types, the second half
   * of each real sequence is segment 1 (RoBERTa, which has a single token type, gets all zeros).
   */
  public static Inputs randomInputs(Spec spec, int batch, int seqLen, long seed) {
    if (batch < 1 || seqLen < 1) {
      throw new IllegalArgumentException("batch and seqLen must be >= 1");
    }
    // RoBERTa's positions run from padding_idx + 1 to padding_idx + seqLen.
    int positionsNeeded = spec.naming() == Naming.ROBERTA ? seqLen + 2 : seqLen;
    if (positionsNeeded > spec.maxPositions()) {
      throw new IllegalArgumentException("seqLen " + seqLen + " needs " + positionsNeeded
          + " positions but the spec has " + spec.maxPositions());
    }
    Random random = new Random(seed);
    int[] lengths = rowLengths(batch, seqLen, random);
    long[][] ids = new long[batch][seqLen];
    long[][] mask = new long[batch][seqLen];
    long[][] types = spec.tokenTypeIds() ? new long[batch][seqLen] : null;
    boolean twoSegments = spec.naming() != Naming.ROBERTA;
    for (int r = 0; r < batch; r++) {
      for (int t = 0; t < seqLen; t++) {
        boolean real = t < lengths[r];
        ids[r][t] = real ? 2 + random.nextInt(spec.vocab() - 2) : spec.paddingId();
        mask[r][t] = real ? 1 : 0;
        if (types != null && real && twoSegments && t >= (lengths[r] + 1) / 2) {
          types[r][t] = 1;
        }
      }
    }
    return new Inputs(ids, mask, types);
  }

  private static int[] rowLengths(int batch, int seqLen, Random random) {
    List<Integer> shorter = new ArrayList<>();
    for (int length = 1; length < seqLen; length++) {
      shorter.add(length);
    }
    Collections.shuffle(shorter, random);
    int[] lengths = new int[batch];
    lengths[0] = seqLen;
    for (int r = 1; r < batch; r++) {
      lengths[r] = shorter.isEmpty() ? seqLen : shorter.get((r - 1) % shorter.size());
    }
    return lengths;
  }
}
