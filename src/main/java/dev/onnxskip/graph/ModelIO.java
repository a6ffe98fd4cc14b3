package dev.onnxskip.graph;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.onnxskip.AtomicFiles;
import dev.onnxskip.OnnxSkipException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Loads and saves ONNX models, turning every way a file can be wrong into a one-line message. */
public final class ModelIO {
  private ModelIO() {}

  /** Protobuf's ceiling for one message, and so for a model file: its graph, inline weights included. */
  static final long PROTOBUF_LIMIT = Integer.MAX_VALUE;

  /** What to do about a model file over {@link #PROTOBUF_LIMIT}: the exporters' own ways to keep weights apart. */
  public static final String REEXPORT = "re-export it with its weights in external data: torch.onnx.export(..., external_data=True)"
      + " (torch 2.5 and later; use_external_data_format=True before), optimum-cli export onnx (writes model.onnx_data for"
      + " models over 2 GB by itself), or onnx.save_model(model, path, save_as_external_data=True)";

  /**
   * Loads a model and checks that it is a usable graph whose external data, if any, is present.
   *
   * @throws OnnxSkipException naming the file and what is wrong with it
   */
  public static OnnxModel load(Path path) {
    if (!Files.exists(path)) {
      throw new OnnxSkipException(path + ": no such file");
    }
    if (Files.isDirectory(path)) {
      throw new OnnxSkipException(path + ": is a directory, not an ONNX model file");
    }
    ModelProto proto;
    try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 20)) {
      long size = Files.size(path);
      if (size == 0) {
        throw new OnnxSkipException(path + ": empty file, not an ONNX model");
      }
      if (size > PROTOBUF_LIMIT) {
        throw new OnnxSkipException(path + ": " + size / (1 << 20) + " MiB in one file, over protobuf's 2 GB limit for a model's graph; "
            + REEXPORT);
      }
      proto = parse(in, path.toString());
    } catch (IOException e) {
      throw new OnnxSkipException(path + ": cannot read: " + AtomicFiles.describe(e), e);
    }
    OnnxModel model = new OnnxModel(proto, Optional.of(path));
    ExternalData.check(model);
    return model;
  }

  private static ModelProto parse(InputStream in, String label) throws IOException {
    ModelProto proto;
    try {
      CodedInputStream coded = CodedInputStream.newInstance(in);
      // Protobuf's own ceiling is 2 GB; larger models keep their weights in external data files.
      coded.setSizeLimit((int) PROTOBUF_LIMIT);
      coded.setRecursionLimit(1000);
      proto = ModelProto.parseFrom(coded);
    } catch (InvalidProtocolBufferException e) {
      throw new OnnxSkipException(
          label + ": not a valid ONNX model (truncated or corrupt protobuf: " + e.getMessage() + ")", e);
    }
    // Random bytes sometimes parse as a protobuf of unknown fields: demand the parts a model has.
    if (proto.getIrVersion() <= 0 || !proto.hasGraph()) {
      throw new OnnxSkipException(label + ": not an ONNX model (no IR version or no graph)");
    }
    if (proto.getGraph().getNodeCount() == 0 || proto.getGraph().getOutputCount() == 0) {
      throw new OnnxSkipException(label + ": ONNX model has an empty graph (no nodes or no outputs)");
    }
    return proto;
  }

  /** Writes a model atomically; {@code target} must not be the file the model was loaded from. */
  public static void save(ModelProto proto, Path target) {
    AtomicFiles.write(target, proto::writeTo);
  }
}
