package dev.onnxskip.rewrite;

import ai.onnx.proto.OnnxMl.NodeProto;
import dev.onnxskip.ToolVersion;
import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import java.util.HashSet;
import java.util.Set;

/**
 * Replaces a span of encoder blocks with the identity. Every reader of block E's output, graph
 * outputs included, reads block S's input instead; then whatever no output needs any more is
 * pruned, so the skipped layers' weights leave the file, and shared parts such as the attention
 * mask go only when no remaining block uses them.
 */
public final class SkipRewriter {
  private SkipRewriter() {}

  /**
   * @param sourceSha256 recorded in the variant's metadata, with the span and the tool version
   */
  public static OnnxModel variant(OnnxModel model, EncoderLayout layout, SkipSpan span, String sourceSha256) {
    if (span.end() >= layout.layers()) {
      throw new IllegalArgumentException("span " + span + " is outside the model's " + layout.layers() + " layers");
    }
    Graph g = model.copyGraph();
    String keep = layout.boundary(span.start());
    Set<String> graphOutputs = new HashSet<>(g.outputNames());
    // Stream tensors after the bypass point that are graph outputs (the encoder output, or every
    // layer's hidden state in exports with output_hidden_states) must keep their names: they
    // become Identity copies of the kept tensor, as skipping makes them equal to it.
    for (int k = span.start() + 1; k <= span.end() + 1; k++) {
      String skipped = layout.boundary(k);
      if (graphOutputs.contains(skipped)) {
        g.renameOutput(skipped, skipped + "/onnx_skip_bypassed");
        g.addNode(new Node(NodeProto.newBuilder()
            .setOpType("Identity")
            .setName("/onnx_skip/skip_" + span.start() + "_" + span.end() + "/Identity_" + k)
            .addInput(keep)
            .addOutput(skipped)
            .build()));
      }
    }
    g.redirectConsumers(layout.boundary(span.end() + 1), keep);
    g.cleanup();
    g.toposort();
    return model.withGraph(g).withMetadata(
        new Provenance(span, layout.layers(), sourceSha256, ToolVersion.get()).toMetadata());
  }
}
