package dev.onnxskip.graph;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

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

  /** A fresh mutable IR of this model's graph: a copy, which changes do not reach this model. */
  public Graph copyGraph() {
    return Graph.fromProto(proto.getGraph());
  }

  /** The inputs a caller feeds: declared graph inputs that no initializer provides a default for. */
  public List<TensorInfo> runtimeInputs() {
    Set<String> initialized = new HashSet<>();
    proto.getGraph().getInitializerList().forEach(t -> initialized.add(t.getName()));
    return TensorInfo.of(proto.getGraph().getInputList().stream().filter(v -> !initialized.contains(v.getName())).toList());
  }

  public List<TensorInfo> outputs() {
    return TensorInfo.of(proto.getGraph().getOutputList());
  }

  public List<String> outputNames() {
    return proto.getGraph().getOutputList().stream().map(v -> v.getName()).toList();
  }

  public long irVersion() {
    return proto.getIrVersion();
  }

  /** "name version" of the exporter that wrote the model, or "" when it did not say. */
  public String producer() {
    return (proto.getProducerName() + " " + proto.getProducerVersion()).strip();
  }

  /** Imported opsets by domain, in file order, with the default domain spelled "ai.onnx". */
  public Map<String, Long> opsets() {
    Map<String, Long> m = new LinkedHashMap<>();
    for (OperatorSetIdProto o : proto.getOpsetImportList()) {
      m.put(Domains.isDefault(o.getDomain()) ? Domains.DEFAULT : o.getDomain(), o.getVersion());
    }
    return m;
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
    return Optional.ofNullable(opsets().get(Domains.isDefault(domain) ? Domains.DEFAULT : domain));
  }

  /** Where the model came from, for messages. */
  public String describe() {
    return source.map(Path::toString).orElse("<in-memory model>");
  }
}
