package dev.onnxskip.graph;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A model as loaded: the model-level protobuf fields (IR version, opsets, producer, metadata), its
 * graph as an immutable proto, and where it came from, which external-data locations are relative
 * to. Rewrites work on a {@link Graph} copy and wrap the result with {@link #withGraph}.
 */
public record OnnxModel(ModelProto proto, Optional<Path> source) {

  public static OnnxModel of(ModelProto proto) {
    return new OnnxModel(proto, Optional.empty());
  }

  /** The folder external-data locations are resolved against; the working folder for in-memory models. */
  public Path baseDir() {
    return source.map(p -> p.toAbsolutePath().getParent()).orElse(Path.of("").toAbsolutePath());
  }

  /** A fresh mutable IR of this model's graph. */
  public Graph graph() {
    return Graph.fromProto(proto.getGraph());
  }

  /** This model with another graph; IR version, opsets and metadata are kept, so variants are drop-in. */
  public OnnxModel withGraph(Graph g) {
    return new OnnxModel(proto.toBuilder().setGraph(g.toProto()).build(), source);
  }

  /** This model with metadata entries added or replaced, keeping the order of the rest. */
  public OnnxModel withMetadata(Map<String, String> entries) {
    Map<String, String> merged = new LinkedHashMap<>(metadata());
    merged.putAll(entries);
    ModelProto.Builder b = proto.toBuilder().clearMetadataProps();
    merged.forEach((k, v) -> b.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
    return new OnnxModel(b.build(), source);
  }

  public Map<String, String> metadata() {
    Map<String, String> m = new LinkedHashMap<>();
    for (StringStringEntryProto e : proto.getMetadataPropsList()) {
      m.put(e.getKey(), e.getValue());
    }
    return m;
  }

  /** The opset version imported for a domain ("" or "ai.onnx" for the default domain), if any. */
  public Optional<Long> opset(String domain) {
    for (OperatorSetIdProto o : proto.getOpsetImportList()) {
      String d = o.getDomain().equals("ai.onnx") ? "" : o.getDomain();
      if (d.equals(domain)) {
        return Optional.of(o.getVersion());
      }
    }
    return Optional.empty();
  }

  /** Where the model came from, for messages. */
  public String describe() {
    return source.map(Path::toString).orElse("<in-memory model>");
  }
}
