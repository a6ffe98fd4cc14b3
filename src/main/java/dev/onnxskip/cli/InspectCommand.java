package dev.onnxskip.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorInfo;
import dev.onnxskip.layout.Block;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.rewrite.Provenance;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code onnx-skip inspect}: what the tool finds in a model. */
@Command(name = "inspect", mixinStandardHelpOptions = true, description = "Show the graph signature and the encoder blocks found in a model.")
public final class InspectCommand implements Callable<Integer> {

  @Parameters(paramLabel = "MODEL", description = "An ONNX model file.")
  Path model;

  @Option(names = "--json", description = "Print one JSON object instead of text.")
  boolean json;

  @Mixin LayoutOptions layoutOptions;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    OnnxModel loaded = ModelIO.load(model);
    EncoderLayout layout = LayoutDetector.detect(loaded, layoutOptions.boundaries);
    Map<String, Object> report = report(loaded, layout);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report));
    } else {
      printText(out, loaded, layout);
    }
    out.flush();
    return 0;
  }

  static Map<String, Object> report(OnnxModel model, EncoderLayout layout) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("file", model.describe());
    r.put("ir_version", model.irVersion());
    r.put("opsets", model.opsets());
    r.put("producer", model.producer());
    r.put("inputs", signature(model.runtimeInputs()));
    r.put("outputs", signature(model.outputs()));
    r.put("layers", layout.layers());
    r.put("hidden_size", layout.hiddenSize());
    r.put("vocabulary_size", layout.vocabularySize().isPresent() ? layout.vocabularySize().getAsLong() : null);
    r.put("max_positions", layout.maxPositions().isPresent() ? layout.maxPositions().getAsLong() : null);
    r.put("strategy", layout.strategy());
    r.put("evidence", layout.evidence());
    r.put("shared_side_inputs", layout.sharedSideInputs());
    List<Map<String, Object>> blocks = new ArrayList<>();
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
    r.put("blocks", blocks);
    Provenance.read(model).ifPresent(v -> r.put("variant", v.toJson()));
    return r;
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

  private static void printText(PrintWriter out, OnnxModel model, EncoderLayout layout) {
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
    Provenance.read(model).ifPresent(v -> out.printf("variant    %s%n", v.describe()));
    out.printf("encoder    %d layers, hidden size %d, found by %s (%s)%n",
        layout.layers(), layout.hiddenSize(), layout.strategy(), layout.evidence());
    out.printf("tokens     vocabulary %s, at most %s per text%n",
        layout.vocabularySize().isPresent() ? String.format("%,d", layout.vocabularySize().getAsLong()) : "unknown",
        layout.maxPositions().isPresent() ? Long.toString(layout.maxPositions().getAsLong()) : "unknown (no position table found)");
    out.printf("shared     %s%n", layout.sharedSideInputs().isEmpty() ? "(none)" : String.join(", ", layout.sharedSideInputs()));
    out.println();
    out.printf("%5s %6s %12s %11s  %s%n", "layer", "nodes", "parameters", "bytes", "input -> output");
    for (Block b : layout.blocks()) {
      out.printf("%5d %6d %,12d %11s  %s -> %s%n", b.index(), b.nodeCount(), b.parameterCount(),
          humanBytes(b.parameterBytes()), b.input(), b.output());
    }
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
