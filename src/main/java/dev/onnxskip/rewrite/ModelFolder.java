package dev.onnxskip.rewrite;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.onnxskip.AtomicFiles;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.ToolVersion;
import dev.onnxskip.graph.Digests;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorTypes;
import dev.onnxskip.layout.EncoderLayout;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;

/**
 * A Hugging Face-style model folder of one variant (or of the baseline), which other runtimes load as
 * it is: the model as {@code onnx/model.onnx} (where transformers.js looks) or {@code model.onnx}
 * (where optimum looks first), {@code config.json}, and the tokenizer's files.
 *
 * <p>{@code config.json} is the source model's own where one lies beside it (or beside its
 * {@code onnx/} folder), else one made from the graph and the labels; either way its layer count
 * ({@code num_hidden_layers}, or the family's name for it) is the variant's depth, and an
 * {@code onnx_skip} object records where the folder came from. The folder is written under a
 * temporary name and renamed when complete, so a folder that exists is whole.
 */
public final class ModelFolder {

  /** Where the model file goes in the folder. */
  public enum Layout {
    /** {@code onnx/model.onnx}: transformers.js, and optimum with {@code subfolder="onnx"}. */
    ONNX_SUBFOLDER("onnx/model.onnx"),
    /** {@code model.onnx} at the top: optimum's default. */
    ROOT("model.onnx");

    public final String modelPath;

    Layout(String modelPath) {
      this.modelPath = modelPath;
    }
  }

  /** Tokenizer files copied where the tokenizer's folder has them; {@code tokenizer.json} is required. */
  static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
      "vocab.json", "merges.txt", "added_tokens.json", "sentencepiece.bpe.model", "spiece.model");

  /** What {@code num_hidden_layers} is called in config.json by the families that name it otherwise. */
  private static final Map<String, String> DEPTH_KEYS = Map.of("distilbert", "n_layers");
  /** Other names for the layer count, tried when a config has no {@code num_hidden_layers}. */
  private static final List<String> OTHER_DEPTH_KEYS = List.of("n_layers", "num_layers", "n_layer");

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * What was written.
   *
   * @param configFrom "beside the source model" with its path, or "made from the model"
   * @param copied the tokenizer files copied, by name
   * @param madeTokenizerConfig whether tokenizer_config.json was made because the tokenizer's folder has none
   */
  public record Written(Path dir, Path model, int layers, long parameters, long bytes, String configFrom, List<String> copied,
      boolean madeTokenizerConfig) {}

  /**
   * What goes into the folder besides the model.
   *
   * @param tokenizer the tokenizer's folder, or its tokenizer.json (whose folder is then used)
   * @param labels label names in logit order, for a config.json made here (id2label, label2id)
   * @param modelType the {@code model_type} of a config.json made here ("bert", "roberta", ...)
   * @param maxLength the length texts were truncated to when the model was evaluated, for a
   *     tokenizer_config.json made here; empty to take the tokenizer's own truncation, else the
   *     model's positions
   */
  public record Contents(Path tokenizer, List<String> labels, String modelType, Layout layout, OptionalInt maxLength) {}

  private ModelFolder() {}

  /** The config.json that describes {@code sourceFile}, if one lies beside it or beside its onnx/ folder. */
  public static Optional<Path> sourceConfig(Path sourceFile) {
    Path dir = sourceFile.toAbsolutePath().normalize().getParent();
    Path beside = dir.resolve("config.json");
    if (Files.isRegularFile(beside)) {
      return Optional.of(beside);
    }
    if (dir.getFileName() != null && dir.getFileName().toString().equals("onnx") && dir.getParent() != null
        && Files.isRegularFile(dir.getParent().resolve("config.json"))) {
      return Optional.of(dir.getParent().resolve("config.json"));
    }
    return Optional.empty();
  }

  /**
   * Writes the folder {@code target} for {@code variant} of {@code source}.
   *
   * @param replace whether an existing {@code target} may be replaced (the caller checks --force)
   * @throws OnnxSkipException when the tokenizer's folder has no tokenizer.json, a config.json cannot
   *     be read, or a file cannot be written; nothing is left at {@code target} then
   */
  public static Written write(OnnxModel source, EncoderLayout layout, Variant variant, Path sourceFile, Contents contents, Path target,
      boolean replace) {
    Path tokenizerDir = Files.isDirectory(contents.tokenizer()) ? contents.tokenizer() : contents.tokenizer().toAbsolutePath().getParent();
    if (!Files.isRegularFile(tokenizerDir.resolve("tokenizer.json"))) {
      throw new OnnxSkipException("no tokenizer.json in " + tokenizerDir + ": a model folder needs the tokenizer's files");
    }
    Optional<Path> config = sourceConfig(sourceFile);
    String sourceSha = Digests.sha256(sourceFile);
    Path absolute = target.toAbsolutePath().normalize();
    Path parent = absolute.getParent();
    Path staging = parent.resolve("." + absolute.getFileName() + "." + UUID.randomUUID() + ".tmp");
    try {
      Files.createDirectories(parent);
      Files.createDirectory(staging);
      Path modelFile = staging.resolve(contents.layout().modelPath);
      ModelProto proto = variant instanceof SkipSpan span
          ? ExternalData.inline(SkipRewriter.variant(source, layout, span, sourceSha)).proto()
          : ExternalData.inline(source).proto();
      if (proto.getSerializedSize() < 0 || proto.getSerializedSize() > VariantWriter.INLINE_LIMIT) {
        throw new OnnxSkipException(variant.name() + " would exceed protobuf's 2 GB limit as one model.onnx; a model folder holds one inline file");
      }
      AtomicFiles.write(modelFile, proto::writeTo);
      long parameters = 0;
      for (TensorProto t : proto.getGraph().getInitializerList()) {
        parameters += TensorTypes.elementCount(t);
      }
      int depth = layout.layers() - (variant instanceof SkipSpan s ? s.length() : 0);
      ObjectNode configJson = config.isPresent() ? readConfig(config.get()) : madeConfig(layout, contents);
      setDepth(configJson, depth, contents.modelType());
      configJson.set("onnx_skip", provenance(variant, layout, sourceFile, sourceSha, depth, config));
      AtomicFiles.writeString(staging.resolve("config.json"), JSON.writeValueAsString(configJson) + "\n");
      List<String> copied = new ArrayList<>();
      for (String name : TOKENIZER_FILES) {
        Path file = tokenizerDir.resolve(name);
        if (Files.isRegularFile(file)) {
          Files.copy(file, staging.resolve(name));
          copied.add(name);
        }
      }
      boolean madeTokenizerConfig = !copied.contains("tokenizer_config.json");
      if (madeTokenizerConfig) {
        // transformers.js reads it for every tokenizer; the maximum length is what truncation needs.
        ObjectNode tc = JSON.createObjectNode();
        tc.put("model_max_length", maxLength(contents, tokenizerDir.resolve("tokenizer.json"), layout));
        AtomicFiles.writeString(staging.resolve("tokenizer_config.json"), JSON.writeValueAsString(tc) + "\n");
      }
      long bytes = Files.size(modelFile);
      if (Files.exists(absolute)) {
        if (!replace && !isEmptyFolder(absolute)) {
          throw new OnnxSkipException(target + " exists");
        }
        Path old = parent.resolve("." + absolute.getFileName() + "." + UUID.randomUUID() + ".old");
        Files.move(absolute, old);
        Files.move(staging, absolute);
        deleteTree(old);
      } else {
        Files.move(staging, absolute);
      }
      return new Written(target, target.resolve(contents.layout().modelPath), depth, parameters, bytes,
          config.map(c -> "beside the source model: " + c).orElse("made from the model"), List.copyOf(copied), madeTokenizerConfig);
    } catch (IOException e) {
      throw new OnnxSkipException("cannot write the model folder " + target + ": " + AtomicFiles.describe(e), e);
    } finally {
      deleteTree(staging);
    }
  }

  /** Where texts are cut: as evaluated, else as the tokenizer itself truncates, else at the model's positions. */
  private static long maxLength(Contents contents, Path tokenizerJson, EncoderLayout layout) {
    if (contents.maxLength().isPresent()) {
      return contents.maxLength().getAsInt();
    }
    JsonNode truncation = readConfig(tokenizerJson).path("truncation").path("max_length");
    return truncation.canConvertToLong() ? truncation.asLong() : layout.maxPositions().orElse(512);
  }

  private static ObjectNode readConfig(Path file) {
    try {
      JsonNode node = JSON.readTree(Files.readAllBytes(file));
      if (node == null || !node.isObject()) {
        throw new OnnxSkipException(file + ": a config.json must be a JSON object");
      }
      return (ObjectNode) node;
    } catch (JsonProcessingException e) {
      throw new OnnxSkipException("cannot read " + file + ": not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new OnnxSkipException("cannot read " + file + ": " + AtomicFiles.describe(e), e);
    }
  }

  /** A config for a model that came without one: its family, labels and sizes as far as the graph tells. */
  private static ObjectNode madeConfig(EncoderLayout layout, Contents contents) {
    ObjectNode c = JSON.createObjectNode();
    if (contents.labels().isEmpty()) {
      // An encoder without a classifier head: a feature-extraction model, which names no labels.
      c.put("model_type", contents.modelType());
      putSizes(c, layout);
      return c;
    }
    c.putArray("architectures").add(architecture(contents.modelType()));
    c.put("model_type", contents.modelType());
    ObjectNode id2label = c.putObject("id2label");
    ObjectNode label2id = c.putObject("label2id");
    for (int i = 0; i < contents.labels().size(); i++) {
      id2label.put(Integer.toString(i), contents.labels().get(i));
      label2id.put(contents.labels().get(i), i);
    }
    c.put("problem_type", "single_label_classification");
    putSizes(c, layout);
    return c;
  }

  private static void putSizes(ObjectNode c, EncoderLayout layout) {
    if (layout.hiddenSize() > 0) {
      c.put("hidden_size", layout.hiddenSize());
    }
    layout.vocabularySize().ifPresent(v -> c.put("vocab_size", v));
    layout.maxPositions().ifPresent(p -> c.put("max_position_embeddings", p));
  }

  /** "bert" gives BertForSequenceClassification, "xlm-roberta" XLMRobertaForSequenceClassification. */
  static String architecture(String modelType) {
    Map<String, String> known = Map.of("bert", "Bert", "roberta", "Roberta", "xlm-roberta", "XLMRoberta", "distilbert", "DistilBert",
        "albert", "Albert", "electra", "Electra", "deberta-v2", "DebertaV2", "mpnet", "MPNet");
    String stem = known.getOrDefault(modelType, Character.toUpperCase(modelType.charAt(0)) + modelType.substring(1).replace("-", ""));
    return stem + "ForSequenceClassification";
  }

  /** Sets the layer count under the name the config already uses, else the family's, else num_hidden_layers. */
  private static void setDepth(ObjectNode config, int depth, String modelType) {
    String key = "num_hidden_layers";
    if (!config.has(key)) {
      String type = config.path("model_type").asText(modelType);
      key = DEPTH_KEYS.getOrDefault(type, OTHER_DEPTH_KEYS.stream().filter(config::has).findFirst().orElse("num_hidden_layers"));
    }
    config.put(key, depth);
  }

  private static ObjectNode provenance(Variant variant, EncoderLayout layout, Path sourceFile, String sourceSha, int depth,
      Optional<Path> config) {
    ObjectNode p = JSON.createObjectNode();
    p.put("tool_version", ToolVersion.get());
    p.put("source", sourceFile.getFileName().toString());
    p.put("source_sha256", sourceSha);
    p.put("source_layers", layout.layers());
    if (variant instanceof SkipSpan span) {
      p.putArray("skipped_span").add(span.start()).add(span.end());
    } else {
      p.putNull("skipped_span");
    }
    p.put("layers", depth);
    p.put("config", config.isPresent() ? "copied from beside the source model" : "made from the model");
    return p;
  }

  private static boolean isEmptyFolder(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (var entries = Files.list(dir)) {
      return entries.findAny().isEmpty();
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try {
      Files.walkFileTree(root, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.delete(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
          Files.delete(dir);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException ignored) {
      // A leftover temporary folder is the lesser problem; the write itself succeeded or says why not.
    }
  }
}
