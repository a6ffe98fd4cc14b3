package dev.onnxskip.cli;

import dev.onnxskip.data.DataColumns;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Which labelled data to read and which columns hold what: shared by eval and probe. */
public final class DataOptions {
  @Option(names = "--text-column", defaultValue = "text", description = "Column holding the text (default: ${DEFAULT-VALUE}).")
  String textColumn;

  @Option(names = "--text-pair-column", description = "Column holding the second text of sentence-pair tasks.")
  String textPairColumn;

  @Option(names = "--label-column", defaultValue = "label", description = "Column holding the gold label (default: ${DEFAULT-VALUE}).")
  String labelColumn;

  DataColumns columns() {
    return new DataColumns(textColumn, textPairColumn, labelColumn);
  }
}
