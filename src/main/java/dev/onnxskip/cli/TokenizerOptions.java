package dev.onnxskip.cli;

import dev.onnxskip.UsageException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The tokenizer and how long texts may get: shared by eval and probe. */
public final class TokenizerOptions {
  @Option(names = "--tokenizer", required = true, paramLabel = "tokenizer.json", description = "Hugging Face tokenizer.json of the model.")
  Path tokenizer;

  @Option(names = "--max-length", defaultValue = "128", description = "Truncate texts to this many tokens, above 512 too (default: ${DEFAULT-VALUE}).")
  private int maxLength;

  /** At least 2: room for the two special tokens BERT-style tokenizers add, [CLS] and [SEP]. */
  int maxLength() {
    if (maxLength <= 1) {
      throw new UsageException("--max-length must be at least 2, got " + maxLength);
    }
    return maxLength;
  }
}
