package dev.onnxskip.cli;

import dev.onnxskip.UsageException;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.rewrite.ModelFolder;
import dev.onnxskip.rewrite.Variant;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

/**
 * How a Hugging Face-style model folder is made: the tokenizer whose files go in it, the family a
 * made config.json names, and where the model file lies. Shared by {@code rewrite --hf-dir} and
 * {@code select -o}.
 */
public final class ModelFolderOptions {
  @picocli.CommandLine.Option(names = "--tokenizer", paramLabel = "DIR|tokenizer.json",
      description = "The tokenizer's folder (or its tokenizer.json), whose tokenizer.json, tokenizer_config.json,"
          + " special_tokens_map.json and vocab.txt (where present) are copied into the model folder.")
  Path tokenizer;

  @picocli.CommandLine.Option(names = "--model-type", defaultValue = "bert", paramLabel = "TYPE",
      description = "model_type of a config.json made for a model that has none beside it (default: ${DEFAULT-VALUE}).")
  String modelType;

  @picocli.CommandLine.Option(names = "--hf-flat", description = "Put model.onnx at the top of the folder (optimum's default)"
      + " instead of onnx/model.onnx (transformers.js's).")
  boolean flat;

  /** Checks the values before any work: the tokenizer must be there. */
  void check(String option) {
    if (tokenizer == null) {
      throw new UsageException(option + " needs --tokenizer: the folder gets the tokenizer's files");
    }
    Path dir = Files.isDirectory(tokenizer) ? tokenizer : tokenizer.toAbsolutePath().getParent();
    if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
      throw new UsageException("--tokenizer " + tokenizer + ": no tokenizer.json " + (Files.isDirectory(tokenizer) ? "in that folder" : "there"));
    }
    if (modelType.isBlank() || !modelType.matches("[a-z0-9_-]+")) {
      throw new UsageException("--model-type must be a Hugging Face model_type such as bert or roberta, got '" + modelType + "'");
    }
  }

  /** Refuses a folder that would be replaced while it holds the source model. */
  static void refuseSourceInside(Path folder, Path model) {
    if (model.toAbsolutePath().normalize().startsWith(folder.toAbsolutePath().normalize())) {
      throw new UsageException("output folder " + folder + " holds the input model " + model + "; name another folder");
    }
  }

  /** Writes the folder and says what went into it. */
  ModelFolder.Written write(OnnxModel source, EncoderLayout layout, Variant variant, Path sourceFile, List<String> labels,
      OptionalInt maxLength, Path target, boolean force, PrintWriter out) {
    ModelFolder.Contents contents = new ModelFolder.Contents(tokenizer, labels, modelType,
        flat ? ModelFolder.Layout.ROOT : ModelFolder.Layout.ONNX_SUBFOLDER, maxLength);
    ModelFolder.Written w = ModelFolder.write(source, layout, variant, sourceFile, contents, target, force);
    out.printf("wrote %s: %s (%d layers, %,d parameters, %s), config.json (%s), %s%s%n", w.dir(), contents.layout().modelPath, w.layers(),
        w.parameters(), InspectCommand.humanBytes(w.bytes()), w.configFrom(), String.join(", ", w.copied()),
        w.madeTokenizerConfig() ? ", tokenizer_config.json (made: the tokenizer's folder has none)" : "");
    out.flush();
    return w;
  }
}
