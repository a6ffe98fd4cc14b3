package dev.onnxskip.rewrite;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.onnxskip.AtomicFiles;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorTypes;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One ONNX external-data file holding every large initializer of a source model once, which all
 * variants of a run point into. Variants then cost their graph structure only, not their weights.
 */
public final class SharedWeights {

  /** Initializers smaller than this stay inline: a reference would cost about as much. */
  static final long MIN_EXTERNAL_BYTES = 1024;
  /** Offsets are page-aligned so that runtimes can memory-map each tensor. */
  private static final long ALIGNMENT = 4096;

  private final OnnxModel source;
  private final String location;
  private final Map<String, ExternalData.Ref> refs;

  private SharedWeights(OnnxModel source, String location, Map<String, ExternalData.Ref> refs) {
    this.source = source;
    this.location = location;
    this.refs = refs;
  }

  String location() {
    return location;
  }

  /**
   * The model as it is to be saved at {@code target}: as it is where its external-data locations
   * still resolve from there (no external data, or the same folder, which then shares the files),
   * else pointing into a weights file of its own written beside {@code target}, named after it
   * with {@code .data} added.
   */
  public static ModelProto forFile(OnnxModel model, Path target) {
    Path folder = target.toAbsolutePath().normalize().getParent();
    if (!ExternalData.hasExternal(model.proto()) || folder.equals(model.baseDir().normalize())) {
      return model.proto();
    }
    return write(model, target.resolveSibling(target.getFileName() + ".data")).externalize(model.proto());
  }

  /** Writes the weights file (atomically) beside where the variants will go. */
  static SharedWeights write(OnnxModel source, Path file) {
    Map<String, ExternalData.Ref> refs = new LinkedHashMap<>();
    AtomicFiles.write(file, out -> {
      long offset = 0;
      for (TensorProto t : source.proto().getGraph().getInitializerList()) {
        long size = TensorTypes.byteSize(t);
        if (size < MIN_EXTERNAL_BYTES) {
          continue;
        }
        long aligned = (offset + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        out.write(new byte[(int) (aligned - offset)]);
        ExternalData.writeRaw(t, source, out);
        refs.put(t.getName(), new ExternalData.Ref(file.getFileName().toString(), aligned, size));
        offset = aligned + size;
      }
    });
    return new SharedWeights(source, file.getFileName().toString(), refs);
  }

  /**
   * The variant with its large initializers replaced by references into this file, and its small
   * ones inline, also those the source kept in external data: its files are not beside the variants.
   */
  ModelProto externalize(ModelProto variant) {
    GraphProto.Builder g = variant.getGraph().toBuilder();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      ExternalData.Ref ref = refs.get(t.getName());
      g.setInitializer(i, ref == null ? ExternalData.inlined(t, source) : ExternalData.pointingTo(t, ref));
    }
    return variant.toBuilder().setGraph(g).build();
  }
}
