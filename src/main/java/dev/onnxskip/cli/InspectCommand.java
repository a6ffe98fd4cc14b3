package dev.onnxskip.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorInfo;
import dev.onnxskip.layout.Block;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.layout.CrossLayerWeights;
import dev.onnxskip.rewrite.Provenance;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code onnx-skip inspect}: what the tool finds in a model. */
@Command(name = "inspect", mixinStandardHelpOptions = true, description = "Show the graph signature and the encoder blocks found in a model.")
public final class InspectCommand implements Callable<Integer> {

  /** The metadata entry a probe classifier describes its head in. */
  static final String PROBE_DESCRIPTION = "onnx_skip.probe";
  /** The prefix of the metadata entries a probe records its training in. */
  static final String PROBE_PREFIX = PROBE_DESCRIPTION + ".";

  @Parameters(paramLabel = "MODEL", description = "An ONNX model file.")
  Path model;

  @Option(names = "--json", description = "Print one JSON object instead of text.")
  boolean json;

  @Mixin LayoutOptions layoutOptions;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    OnnxModel loaded = ModelIO.load(model);
    Optional<Provenance> variant = Provenance.read(loaded);
    // A variant with every layer skipped has no blocks to find; its own metadata says what it is.
    boolean noLayerLeft = variant.filter(InspectCommand::skipsEveryLayer).isPresent() && layoutOptions.boundaries.isEmpty();
    Optional<EncoderLayout> layout = noLayerLeft ? Optional.empty() : Optional.of(LayoutDetector.detect(loaded, layoutOptions.boundaries));
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> report = report(loaded, layout, variant);
      out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report));
    } else {
      printText(out, loaded, layout, variant);
    }
    out.flush();
    return 0;
  }

  private static boolean skipsEveryLayer(Provenance v) {
    return v.span().start() == 0 && v.span().end() == v.sourceLayers() - 1;
  }

  static Map<String, Object> report(OnnxModel model, Optional<EncoderLayout> found, Optional<Provenance> variant) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("file", model.describe());
    r.put("ir_version", model.irVersion());
    r.put("opsets", model.opsets());
    r.put("producer", model.producer());
    r.put("inputs", signature(model.runtimeInputs()));
    r.put("outputs", signature(model.outputs()));
    List<Map<String, Object>> blocks = new ArrayList<>();
    if (found.isPresent()) {
      EncoderLayout layout = found.get();
      r.put("layers", layout.layers());
      r.put("hidden_size", layout.hiddenSize());
      r.put("embedding_size", layout.embeddingWidth());
      r.put("vocabulary_size", orNull(layout.vocabularySize()));
      r.put("max_positions", orNull(layout.maxPositions()));
      r.put("strategy", layout.strategy());
      r.put("evidence", layout.evidence());
      r.put("shared_side_inputs", layout.sharedSideInputs());
      for (Block b : layout.blocks()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("index", b.index());
        m.put("input", b.input());
        m.put("output", b.output());
        m.put("nodes", b.nodeCount());
        m.put("parameters", b.parameterCount());
        m.put("parameter_bytes", b.parameterBytes());
        m.put("side_inputs", b.sideInputs());
        blocks.add(m);
      }
      List<Map<String, Object>> shared = new ArrayList<>();
      for (CrossLayerWeights s : layout.sharedWeights()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("layers", s.layers());
        m.put("parameters", s.parameterCount());
        m.put("parameter_bytes", s.parameterBytes());
        shared.add(m);
      }
      r.put("shared_weights", shared);
    } else {
      Optional<LayoutDetector.Embeddings> embeddings = LayoutDetector.embeddings(model);
      r.put("layers", 0);
      // No block boundary is left to read the stream's width at.
      r.put("hidden_size", null);
      r.put("embedding_size", embeddings.map(LayoutDetector.Embeddings::width).orElse(null));
      r.put("vocabulary_size", embeddings.map(LayoutDetector.Embeddings::vocabularySize).orElse(null));
      r.put("max_positions", embeddings.flatMap(e -> boxed(e.maxPositions())).orElse(null));
      r.put("strategy", "provenance");
      r.put("evidence", noLayersLeft(variant.orElseThrow()));
      r.put("shared_side_inputs", List.of());
      r.put("shared_weights", List.of());
    }
    r.put("blocks", blocks);
    variant.ifPresent(v -> r.put("variant", v.toJson()));
    probe(model).ifPresent(p -> r.put("probe", p.toJson()));
    return r;
  }

  private static Long orNull(OptionalLong v) {
    return boxed(v).orElse(null);
  }

  private static Optional<Long> boxed(OptionalLong v) {
    return v.isPresent() ? Optional.of(v.getAsLong()) : Optional.empty();
  }

  private static String noLayersLeft(Provenance v) {
    return "layers " + v.span() + " of " + v.sourceLayers() + " skipped, from source sha256 " + v.sourceSha256()
        + " (the variant's onnx_skip metadata)";
  }

  /**
   * What a probe classifier records about its head and its training.
   *
   * @param description the {@code onnx_skip.probe} entry, if there is one
   * @param entries the {@code onnx_skip.probe.*} entries without the prefix, in the stored order
   */
  record ProbeMetadata(Optional<String> description, Map<String, String> entries) {

    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("description", description.orElse(null));
      m.put("entries", entries);
      return m;
    }
  }

  static Optional<ProbeMetadata> probe(OnnxModel model) {
    Map<String, String> metadata = model.metadata();
    Map<String, String> entries = new LinkedHashMap<>();
    metadata.forEach((k, v) -> {
      if (k.startsWith(PROBE_PREFIX)) {
        entries.put(k.substring(PROBE_PREFIX.length()), v);
      }
    });
    Optional<String> description = Optional.ofNullable(metadata.get(PROBE_DESCRIPTION));
    return description.isEmpty() && entries.isEmpty() ? Optional.empty() : Optional.of(new ProbeMetadata(description, entries));
  }

  private static List<Map<String, String>> signature(List<TensorInfo> values) {
    List<Map<String, String>> list = new ArrayList<>();
    for (TensorInfo v : values) {
      Map<String, String> m = new LinkedHashMap<>();
      m.put("name", v.name());
      m.put("type", v.description());
      list.add(m);
    }
    return list;
  }

  private static void printText(PrintWriter out, OnnxModel model, Optional<EncoderLayout> found, Optional<Provenance> variant) {
    out.printf("model      %s%n", model.describe());
    out.printf("ir         %d, opsets %s%n", model.irVersion(),
        model.opsets().entrySet().stream().map(o -> o.getKey() + " " + o.getValue()).toList());
    out.printf("producer   %s%n", model.producer());
    for (TensorInfo v : model.runtimeInputs()) {
      out.printf("input      %s: %s%n", v.name(), v.description());
    }
    for (TensorInfo v : model.outputs()) {
      out.printf("output     %s: %s%n", v.name(), v.description());
    }
    variant.ifPresent(v -> out.printf("variant    %s%n", v.describe()));
    if (found.isPresent()) {
      printLayout(out, found.get());
    } else {
      Optional<LayoutDetector.Embeddings> embeddings = LayoutDetector.embeddings(model);
      out.printf("encoder    0 layers left: %s%n", noLayersLeft(variant.orElseThrow()));
      OptionalLong vocabulary = embeddings.isPresent() ? OptionalLong.of(embeddings.get().vocabularySize()) : OptionalLong.empty();
      out.printf("tokens     %s%n", tokens(vocabulary, embeddings.map(LayoutDetector.Embeddings::maxPositions).orElse(OptionalLong.empty())));
    }
    probe(model).ifPresent(p -> {
      out.println();
      out.printf("probe:%s%n", p.description().map(d -> "     " + d).orElse(""));
      int width = p.entries().keySet().stream().mapToInt(String::length).max().orElse(0);
      // One line per entry, whatever a value holds.
      p.entries().forEach((k, v) -> out.printf("  %-" + width + "s  %s%n", k, v.replace("\r", "\\r").replace("\n", "\\n")));
    });
  }

  private static void printLayout(PrintWriter out, EncoderLayout layout) {
    String projected = layout.embeddingWidth() != layout.hiddenSize()
        ? " (embeddings " + layout.embeddingWidth() + " wide, projected to it)" : "";
    out.printf("encoder    %d layers, hidden size %d%s, found by %s (%s)%n",
        layout.layers(), layout.hiddenSize(), projected, layout.strategy(), layout.evidence());
    out.printf("tokens     %s%n", tokens(layout.vocabularySize(), layout.maxPositions()));
    out.printf("shared     %s%n", layout.sharedSideInputs().isEmpty() ? "(none)" : String.join(", ", layout.sharedSideInputs()));
    out.println();
    out.printf("%5s %6s %12s %11s  %s%n", "layer", "nodes", "parameters", "bytes", "input -> output");
    for (Block b : layout.blocks()) {
      out.printf("%5d %6d %,12d %11s  %s -> %s%n", b.index(), b.nodeCount(), b.parameterCount(),
          humanBytes(b.parameterBytes()), b.input(), b.output());
    }
    for (CrossLayerWeights s : layout.sharedWeights()) {
      out.printf("weights shared by layers %s (counted once): %,d parameters, %s%n", s.describeLayers(), s.parameterCount(),
          humanBytes(s.parameterBytes()));
    }
  }

  private static String tokens(OptionalLong vocabulary, OptionalLong positions) {
    return "vocabulary " + (vocabulary.isPresent() ? String.format("%,d", vocabulary.getAsLong()) : "unknown")
        + ", at most " + (positions.isPresent() ? Long.toString(positions.getAsLong()) : "unknown (no position table found)")
        + " per text";
  }

  static String humanBytes(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    if (bytes < 1024 * 1024) {
      return String.format("%.1f KiB", bytes / 1024.0);
    }
    return String.format("%.1f MiB", bytes / (1024.0 * 1024));
  }
}
