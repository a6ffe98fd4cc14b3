package dev.onnxskip.rewrite;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.onnxskip.AtomicFiles;
import dev.onnxskip.OnnxSkipException;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.onnx.OpSchemaRegistry;
import org.bytedeco.onnx.ShapeInferenceOptions;
import org.bytedeco.onnx.global.onnx;

/**
 * The reference ONNX implementation (the C++ library behind the Python {@code onnx} package, through
 * its JavaCPP bindings): its checker and its shape inference. This class is the only one that touches
 * the bindings, so that their C++ failures, which arrive as bare {@link RuntimeException}s with
 * multi-line messages, leave it as one-line {@link OnnxSkipException}s.
 */
final class ReferenceOnnx {

  /** The ONNX release whose checker the bindings carry: "1.17.0" of the artifact version "1.17.0-1.5.11". */
  static final String VERSION = bindingsVersion();

  /** {@code ShapeInferenceOptions.error_mode}: 0 ignores inference errors, 1 throws them. */
  private static final int IGNORE_ERRORS = 0;
  private static final int STRICT = 1;
  /** {@code TensorProto.DataLocation.EXTERNAL}. */
  private static final int EXTERNAL = 1;

  private ReferenceOnnx() {}

  private static String bindingsVersion() {
    try {
      String v = org.bytedeco.javacpp.Loader.getVersion("org.bytedeco", "onnx");
      return v == null ? "(unknown version)" : v.replaceFirst("-[^-]*$", "");
    } catch (IOException e) {
      return "(unknown version)";
    }
  }

  /** The newest opset of a domain ("" for the default one) that this ONNX release knows. */
  static int maxOpset(String domain) {
    load();
    try (BytePointer d = new BytePointer(domain)) {
      return OpSchemaRegistry.DomainToVersionRange.Instance().Map().second(d);
    }
  }

  /**
   * {@code onnx.checker.check_model(path, full_check=True)}: the structural checks plus strict,
   * type-checked shape inference. Reading from the path lets the checker resolve external data
   * relative to the model's folder, which models over 2 GB need.
   *
   * @throws Failure with the checker's message on one line
   */
  static void checkModel(Path model) {
    load();
    try {
      onnx.check_model(model.toString(), true, false, false);
    } catch (RuntimeException e) {
      throw new Failure(oneLine(e));
    }
  }

  /**
   * Strict shape inference with data propagation ({@code infer_shapes_path(path, strict_mode=True,
   * data_prop=True)}): shapes computed at run time by Shape, Gather, Concat and friends are followed
   * into Reshape and Expand, so a mismatch there fails here though the plain check passes.
   *
   * @throws Failure with the first inference error on one line
   */
  static void inferShapesStrict(Path model) {
    load();
    Path inferred = null;
    try {
      // The C++ entry point always writes the inferred model; it is not wanted.
      inferred = Files.createTempFile("onnx-skip-inferred-", ".onnx");
      try (ShapeInferenceOptions options = strictOptions()) {
        onnx.InferShapes(model.toString(), inferred.toString(), OpSchemaRegistry.Instance(), options, null);
      } catch (RuntimeException e) {
        throw new Failure(oneLine(e));
      }
    } catch (IOException e) {
      throw new OnnxSkipException("cannot create a temporary file for shape inference: " + AtomicFiles.describe(e), e);
    } finally {
      deleteQuietly(inferred);
    }
  }

  private static ShapeInferenceOptions strictOptions() {
    return new ShapeInferenceOptions(true, STRICT, true);
  }

  /**
   * A model file parsed by the ONNX library straight from a memory mapping. The library's own
   * path loader copies the file a character at a time, about a second per 100 MB; a model whose
   * weights are all inline is checked the same way from here in a fraction of that.
   */
  static final class Parsed implements AutoCloseable {
    private final org.bytedeco.onnx.ModelProto model;

    private Parsed(org.bytedeco.onnx.ModelProto model) {
      this.model = model;
    }

    /** The parsed model, or empty when the file is not a protobuf the library can read. */
    static Optional<Parsed> of(Path file) {
      load();
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        long size = ch.size();
        if (size == 0 || size > Integer.MAX_VALUE) {
          return Optional.empty();
        }
        MappedByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
        org.bytedeco.onnx.ModelProto model = new org.bytedeco.onnx.ModelProto();
        boolean parsed;
        try (BytePointer bytes = new BytePointer(mapped)) {
          parsed = model.ParseFromArray(bytes, (int) size);
        } finally {
          // The pointer does not keep the mapping alive; the parsed model holds its own copy.
          java.lang.ref.Reference.reachabilityFence(mapped);
        }
        if (!parsed) {
          model.close();
          return Optional.empty();
        }
        return Optional.of(new Parsed(model));
      } catch (IOException e) {
        return Optional.empty();
      }
    }

    /** Whether the protobuf has the parts every model has; random bytes can parse as a protobuf. */
    boolean looksLikeModel() {
      return model.ir_version() > 0 && model.has_graph() && model.graph().node_size() > 0;
    }

    boolean hasExternalData() {
      var g = model.graph();
      for (int i = 0; i < g.initializer_size(); i++) {
        if (g.initializer(i).data_location() == EXTERNAL) {
          return true;
        }
      }
      return false;
    }

    /** The largest fixed dimension 1 (the sequence) of the run-time inputs, or empty when none is fixed. */
    OptionalLong fixedSequence() {
      var g = model.graph();
      Set<String> initializers = new HashSet<>();
      for (int i = 0; i < g.initializer_size(); i++) {
        initializers.add(string(g.initializer(i).name()));
      }
      OptionalLong longest = OptionalLong.empty();
      for (int i = 0; i < g.input_size(); i++) {
        var v = g.input(i);
        if (initializers.contains(string(v.name())) || !v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) {
          continue;
        }
        var shape = v.type().tensor_type().shape();
        if (shape.dim_size() > 1 && shape.dim(1).has_dim_value()
            && (longest.isEmpty() || shape.dim(1).dim_value() > longest.getAsLong())) {
          longest = OptionalLong.of(shape.dim(1).dim_value());
        }
      }
      return longest;
    }

    /** Opset imports, "" for the default domain. */
    Map<String, Long> opsets() {
      Map<String, Long> m = new LinkedHashMap<>();
      for (int i = 0; i < model.opset_import_size(); i++) {
        var o = model.opset_import(i);
        m.put(string(o.domain()), o.version());
      }
      return m;
    }

    /** Each node's domain and op type, in graph order. */
    List<String[]> domainsAndOps() {
      var g = model.graph();
      List<String[]> ops = new ArrayList<>(g.node_size());
      for (int i = 0; i < g.node_size(); i++) {
        var n = g.node(i);
        ops.add(new String[] {string(n.domain()), string(n.op_type())});
      }
      return ops;
    }

    /** {@code check_model(model, full_check=True)}; the same checks as from the path for inline weights. */
    void checkModel() {
      try {
        onnx.check_model(model, true, false, false);
      } catch (RuntimeException e) {
        throw new Failure(oneLine(e));
      }
    }

    /** {@link ReferenceOnnx#inferShapesStrict(Path)} on the parsed model. */
    void inferShapesStrict() {
      try (ShapeInferenceOptions options = strictOptions()) {
        onnx.InferShapes(model, OpSchemaRegistry.Instance(), options, null);
      } catch (RuntimeException e) {
        throw new Failure(oneLine(e));
      }
    }

    @Override
    public void close() {
      model.close();
    }

    /** The bindings hand back an empty std::string as null. */
    private static String string(BytePointer p) {
      return p == null ? "" : p.getString();
    }
  }

  /**
   * Shape inference with data propagation on a model held in memory, returning the model with
   * {@code value_info} for every tensor whose type could be inferred. Callers pass small models:
   * protobuf messages are limited to 2 GB.
   *
   * @param strict whether a node whose shapes do not fit fails the inference, or is passed over
   * @throws Failure in strict mode, with the first inference error on one line
   */
  static ModelProto inferShapes(ModelProto model, boolean strict) {
    load();
    byte[] bytes = model.toByteArray();
    try (org.bytedeco.onnx.ModelProto cpp = new org.bytedeco.onnx.ModelProto();
        BytePointer in = new BytePointer(bytes);
        ShapeInferenceOptions options = strict ? strictOptions() : new ShapeInferenceOptions(false, IGNORE_ERRORS, true)) {
      if (!cpp.ParseFromArray(in, bytes.length)) {
        throw new IllegalStateException("the ONNX library cannot parse a model that protobuf-java wrote");
      }
      try {
        onnx.InferShapes(cpp, OpSchemaRegistry.Instance(), options, null);
      } catch (RuntimeException e) {
        throw new Failure(oneLine(e));
      }
      try (BytePointer out = cpp.SerializeAsString()) {
        return ModelProto.parseFrom(out.getStringBytes());
      }
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("the ONNX library wrote a model protobuf-java cannot parse", e);
    }
  }

  /** A model the reference implementation rejects; the message is the checker's, on one line. */
  static final class Failure extends OnnxSkipException {
    Failure(String message) {
      super(message);
    }
  }

  /** One error of strict shape inference: {@code (op_type:MatMul, node name: /x): [ShapeInferenceError] text}. */
  private static final Pattern NODE_ERROR =
      Pattern.compile("\\(op_type:([^,]*), node name: (.*?)\\): (?:\\[(\\w+?)(?:Error)?\\] )?(.*)");

  /**
   * Folds a C++ message onto one line. The checker appends its context after a blank line
   * ({@code "...\n\n==> Context: Bad node spec for node. Name: ..."}); strict shape inference lists
   * every failing node on its own line, where all but the first usually follow from the first.
   */
  static String oneLine(RuntimeException e) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    String inferencePrefix = "Inference error(s): ";
    int at = message.indexOf(inferencePrefix);
    if (at >= 0) {
      List<String> errors = message.substring(at + inferencePrefix.length()).lines()
          .map(String::strip).filter(l -> !l.isEmpty()).toList();
      if (!errors.isEmpty()) {
        Matcher m = NODE_ERROR.matcher(errors.get(0));
        String first = m.matches()
            ? (m.group(3) == null ? "" : splitCamel(m.group(3)) + " ") + "error at node '" + m.group(2) + "' ("
                + m.group(1) + "): " + m.group(4)
            : errors.get(0);
        return first + (errors.size() > 1 ? " (and " + (errors.size() - 1) + " more after it)" : "");
      }
    }
    return message
        .replace("==> Context:", "; context:")
        .replaceAll("\\s*\\R\\s*", " ")
        .replaceAll("\\s+;", ";")
        .strip();
  }

  /** "ShapeInference" to "shape inference". */
  private static String splitCamel(String s) {
    return s.replaceAll("(?<=[a-z])(?=[A-Z])", " ").toLowerCase(java.util.Locale.ROOT);
  }

  /** Loads the native library once, with a message that says what is missing when it cannot. */
  private static void load() {
    try {
      org.bytedeco.javacpp.Loader.load(onnx.class);
    } catch (LinkageError | RuntimeException e) {
      throw new OnnxSkipException(
          "the ONNX checker's native library cannot be loaded on " + System.getProperty("os.name") + " "
              + System.getProperty("os.arch") + " (it ships for linux-x86_64): " + e.getMessage(), e);
    }
  }

  private static void deleteQuietly(Path p) {
    if (p == null) {
      return;
    }
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // A leftover file in the temp folder is harmless; the result does not depend on it.
    }
  }
}
