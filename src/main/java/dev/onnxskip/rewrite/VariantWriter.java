package dev.onnxskip.rewrite;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.onnxskip.AtomicFiles;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.ToolVersion;
import dev.onnxskip.graph.Digests;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorTypes;
import dev.onnxskip.layout.EncoderLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Emits skip variants as standalone ONNX files. Each file is written atomically; a folder of
 * variants gets a {@code manifest.json}, written last, that lists every file with its span,
 * sha256, node count and kept parameter count. With shared weights, all variants of one run point
 * into one external-data file.
 */
public final class VariantWriter {

  /** Protobuf cannot serialize one message past 2 GB; keep a margin for the graph structure. */
  static final long INLINE_LIMIT = (1L << 31) - (64L << 20);

  public static final String MANIFEST = "manifest.json";

  /** What was written for one span. */
  public record Written(SkipSpan span, Path file, String sha256, int nodes, long parameters, long bytes) {}

  private final OnnxModel source;
  private final EncoderLayout layout;
  private final String sourceSha256;
  private final Optional<SharedWeights> shared;

  private VariantWriter(OnnxModel source, EncoderLayout layout, String sourceSha256, Optional<SharedWeights> shared) {
    this.source = source;
    this.layout = layout;
    this.sourceSha256 = sourceSha256;
    this.shared = shared;
  }

  /**
   * @param weightsFile when present, the shared external-data file to write now and point every
   *     variant into; it must lie in the folder the variants go to
   */
  public static VariantWriter create(OnnxModel source, EncoderLayout layout, String sourceSha256, Optional<Path> weightsFile) {
    Optional<SharedWeights> shared = weightsFile.map(f -> SharedWeights.write(source, f));
    return new VariantWriter(source, layout, sourceSha256, shared);
  }

  /** File name of a span's variant, zero-padded so that names sort by span. */
  public static String fileName(SkipSpan span, int layers) {
    int width = Integer.toString(Math.max(layers - 1, 0)).length();
    return String.format("skip-%0" + width + "d-%0" + width + "d.onnx", span.start(), span.end());
  }

  public Written write(SkipSpan span, Path target) {
    OnnxModel variant = SkipRewriter.variant(source, layout, span, sourceSha256);
    ModelProto proto = variant.proto();
    if (shared.isPresent()) {
      proto = shared.get().externalize(proto);
    } else {
      proto = ExternalData.inline(variant).proto();
      if (proto.getSerializedSize() < 0 || proto.getSerializedSize() > INLINE_LIMIT) {
        throw new OnnxSkipException("variant " + span + " would exceed protobuf's 2 GB limit as a single file; use --external-data");
      }
    }
    MessageDigest md = Digests.newSha256();
    ModelProto toWrite = proto;
    AtomicFiles.write(target, out -> {
      DigestOutputStream digesting = new DigestOutputStream(out, md);
      toWrite.writeTo(digesting);
      digesting.flush();
    });
    long params = 0;
    for (TensorProto t : proto.getGraph().getInitializerList()) {
      params += TensorTypes.elementCount(t);
    }
    long bytes;
    try {
      bytes = Files.size(target);
    } catch (IOException e) {
      throw new OnnxSkipException("cannot read back " + target + ": " + AtomicFiles.describe(e), e);
    }
    return new Written(span, target, HexFormat.of().formatHex(md.digest()), proto.getGraph().getNodeCount(), params, bytes);
  }

  /** Writes the manifest of a folder of variants, atomically, after all variants are in place. */
  public void writeManifest(Path dir, Path sourceFile, List<Written> written) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("tool", "onnx-skip");
    m.put("tool_version", ToolVersion.get());
    m.put("source", sourceFile.getFileName().toString());
    m.put("source_sha256", sourceSha256);
    m.put("layers", layout.layers());
    m.put("boundaries", layout.boundaries());
    shared.ifPresent(s -> m.put("weights", s.location()));
    List<Map<String, Object>> variants = new ArrayList<>();
    for (Written w : written) {
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("span", List.of(w.span().start(), w.span().end()));
      v.put("file", dir.toAbsolutePath().normalize().relativize(w.file().toAbsolutePath().normalize()).toString());
      v.put("sha256", w.sha256());
      v.put("nodes", w.nodes());
      v.put("parameters", w.parameters());
      v.put("bytes", w.bytes());
      variants.add(v);
    }
    m.put("variants", variants);
    try {
      String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m);
      AtomicFiles.writeString(dir.resolve(MANIFEST), json + "\n");
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("the manifest is plain maps and lists", e);
    }
  }
}
