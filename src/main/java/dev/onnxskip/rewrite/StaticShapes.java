package dev.onnxskip.rewrite;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.UsageException;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorTypes;
import dev.onnxskip.layout.LayoutDetector;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Fixes the batch and sequence dimensions of a model's inputs and folds the shape arithmetic that
 * thereby becomes constant. Exporters compute reshape targets at run time (Shape, Gather,
 * Unsqueeze, Concat); with static inputs those chains are constants, and runtimes that want static
 * graphs (OpenCV DNN, TensorRT, several mobile runtimes) then see plain constant shapes. Unsqueezes
 * of several axes become chains of single-axis ones, which OpenCV DNN needs.
 *
 * <p>Tensor shapes come from the reference ONNX shape inference; the folding itself is done here, on
 * small integer tensors only, so no float result is ever changed.
 */
public final class StaticShapes {

  /** Metadata key recording the fixed dimensions in the written model. */
  public static final String METADATA_KEY = "onnx_skip.static_shapes";

  /** Folded tensors larger than this stay computed: a constant would bloat the file. */
  static final int MAX_FOLDED_ELEMENTS = 4096;

  /** Initializers larger than this are hidden from shape inference, which needs only their type and dims. */
  private static final long INFERENCE_INLINE_ELEMENTS = 4096;

  private static final Set<String> FOLDABLE = Set.of(
      "Shape", "Size", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Reshape", "Slice",
      "Add", "Sub", "Mul", "Div", "Identity");

  /**
   * The dimensions to fix: dimension 0 of every input is the batch, dimension 1 the sequence.
   *
   * @param batch empty to leave the batch dimension as it is
   * @param sequence empty to leave the sequence dimension as it is
   */
  public record Dims(OptionalLong batch, OptionalLong sequence) {

    /**
     * Parses {@code batch=1,sequence=16} (either part may be left out).
     *
     * @throws UsageException naming the part that is wrong
     */
    public static Dims parse(String text) {
      OptionalLong batch = OptionalLong.empty();
      OptionalLong sequence = OptionalLong.empty();
      for (String part : text.split(",", -1)) {
        String[] kv = part.strip().split("=", -1);
        if (kv.length != 2) {
          throw new UsageException("malformed --static-shapes part '" + part + "'; expected batch=N,sequence=N");
        }
        long value;
        try {
          value = Long.parseLong(kv[1].strip());
        } catch (NumberFormatException e) {
          throw new UsageException("--static-shapes: '" + kv[1] + "' is not a number in '" + part + "'");
        }
        if (value < 1) {
          throw new UsageException("--static-shapes: " + kv[0] + " must be at least 1, not " + value);
        }
        switch (kv[0].strip()) {
          case "batch" -> {
            if (batch.isPresent()) {
              throw new UsageException("--static-shapes: batch is given twice");
            }
            batch = OptionalLong.of(value);
          }
          case "sequence" -> {
            if (sequence.isPresent()) {
              throw new UsageException("--static-shapes: sequence is given twice");
            }
            sequence = OptionalLong.of(value);
          }
          default -> throw new UsageException(
              "--static-shapes: unknown dimension '" + kv[0] + "'; use batch=N,sequence=N");
        }
      }
      return new Dims(batch, sequence);
    }

    OptionalLong forAxis(int axis) {
      return axis == 0 ? batch : axis == 1 ? sequence : OptionalLong.empty();
    }

    @Override
    public String toString() {
      List<String> parts = new ArrayList<>();
      batch.ifPresent(b -> parts.add("batch=" + b));
      sequence.ifPresent(s -> parts.add("sequence=" + s));
      return String.join(",", parts);
    }
  }

  private StaticShapes() {}

  /**
   * The model with its input dimensions fixed, the same symbols fixed in its outputs and value
   * infos, and the shape computations that became constant folded into initializers.
   *
   * @throws OnnxSkipException naming the input whose shape cannot be made static
   */
  public static OnnxModel apply(OnnxModel model, Dims dims) {
    checkPositions(model, dims.sequence());
    Graph g = model.copyGraph();
    Map<String, Long> symbols = new HashMap<>();
    List<ValueInfoProto> inputs = new ArrayList<>();
    Set<String> runtime = new HashSet<>();
    g.runtimeInputs().forEach(v -> runtime.add(v.getName()));
    for (ValueInfoProto v : g.inputs()) {
      inputs.add(runtime.contains(v.getName()) ? fixInput(model, v, dims, symbols) : v);
    }
    g.setInputs(inputs);
    g.setOutputs(g.outputs().stream().map(v -> substitute(v, symbols)).toList());
    for (ValueInfoProto v : List.copyOf(g.valueInfo().values())) {
      g.putValueInfo(substitute(v, symbols));
    }
    // Folding a chain makes the shapes after it static, which lets the next round fold the chains
    // that read those shapes: the embeddings first, then layer after layer.
    Map<String, long[]> shapes = inferStaticShapes(model, g);
    while (fold(model, g, shapes) > 0) {
      g.cleanup();
      shapes = inferStaticShapes(model, g);
    }
    splitUnsqueezes(model, g, shapes);
    g.cleanup();
    g.toposort();
    // Fixed dimensions can contradict the graph, e.g. a sequence longer than the position
    // embeddings: refuse here rather than write a model that fails at run time.
    try {
      ReferenceOnnx.inferShapes(skeleton(model, g), true);
    } catch (ReferenceOnnx.Failure f) {
      throw new OnnxSkipException(model.describe() + ": with " + dims + " the shapes of the graph no longer fit: " + f.getMessage(), f);
    }
    return model.withGraph(g).withMetadata(Map.of(METADATA_KEY, dims.toString()));
  }

  /**
   * Refuses a fixed sequence longer than the model's position table. Shape inference finds that
   * only where the position ids are sliced from a buffer of known length; a graph that computes
   * them (Range, CumSum) would pass and fail at run time instead.
   *
   * @throws UsageException naming the model, its positions and the largest sequence it takes
   */
  public static void checkPositions(OnnxModel model, OptionalLong sequence) {
    if (sequence.isEmpty()) {
      return;
    }
    OptionalLong positions = LayoutDetector.maxPositions(model);
    if (positions.isPresent() && sequence.getAsLong() > positions.getAsLong()) {
      throw new UsageException(model.describe() + ": --static-shapes sequence=" + sequence.getAsLong() + " is more than the model's "
          + positions.getAsLong() + " positions; use sequence=" + positions.getAsLong() + " or less");
    }
  }

  private static ValueInfoProto fixInput(OnnxModel model, ValueInfoProto v, Dims dims, Map<String, Long> symbols) {
    if (!v.getType().hasTensorType() || !v.getType().getTensorType().hasShape()) {
      throw new OnnxSkipException(model.describe() + ": input '" + v.getName() + "' declares no shape, so its dimensions cannot be fixed");
    }
    ValueInfoProto.Builder b = v.toBuilder();
    TensorShapeProto.Builder shape = b.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
    for (int axis = 0; axis < shape.getDimCount(); axis++) {
      TensorShapeProto.Dimension d = shape.getDim(axis);
      OptionalLong wanted = dims.forAxis(axis);
      if (d.hasDimValue()) {
        if (wanted.isPresent() && wanted.getAsLong() != d.getDimValue()) {
          throw new OnnxSkipException(model.describe() + ": input '" + v.getName() + "' has dimension " + axis
              + " fixed at " + d.getDimValue() + ", not " + wanted.getAsLong());
        }
        continue;
      }
      if (wanted.isEmpty()) {
        if (axis > 1) {
          throw new OnnxSkipException(model.describe() + ": input '" + v.getName() + "' has a dynamic dimension " + axis
              + (d.hasDimParam() ? " ('" + d.getDimParam() + "')" : "")
              + "; --static-shapes fixes only dimension 0 (batch) and 1 (sequence)");
        }
        continue;
      }
      long value = wanted.getAsLong();
      if (d.hasDimParam()) {
        Long earlier = symbols.putIfAbsent(d.getDimParam(), value);
        if (earlier != null && earlier != value) {
          throw new OnnxSkipException(model.describe() + ": dimension '" + d.getDimParam() + "' of input '" + v.getName()
              + "' would be both " + earlier + " and " + value);
        }
      }
      shape.setDim(axis, TensorShapeProto.Dimension.newBuilder().setDimValue(value));
    }
    return b.build();
  }

  /** The value info with every symbolic dimension named in {@code symbols} replaced by its value. */
  private static ValueInfoProto substitute(ValueInfoProto v, Map<String, Long> symbols) {
    if (!v.getType().hasTensorType() || !v.getType().getTensorType().hasShape()) {
      return v;
    }
    ValueInfoProto.Builder b = v.toBuilder();
    TensorShapeProto.Builder shape = b.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
    for (int i = 0; i < shape.getDimCount(); i++) {
      TensorShapeProto.Dimension d = shape.getDim(i);
      if (d.hasDimParam() && symbols.containsKey(d.getDimParam())) {
        shape.setDim(i, TensorShapeProto.Dimension.newBuilder().setDimValue(symbols.get(d.getDimParam())));
      }
    }
    return b.build();
  }

  /** Fully static shapes of every tensor that reference shape inference can tell. */
  private static Map<String, long[]> inferStaticShapes(OnnxModel model, Graph g) {
    ModelProto inferred = ReferenceOnnx.inferShapes(skeleton(model, g), false);
    Map<String, long[]> shapes = new HashMap<>();
    List<ValueInfoProto> all = new ArrayList<>(inferred.getGraph().getValueInfoList());
    all.addAll(inferred.getGraph().getInputList());
    for (ValueInfoProto v : all) {
      staticDims(v).ifPresent(d -> shapes.put(v.getName(), d));
    }
    return shapes;
  }

  /**
   * The model as shape inference needs it: large initializers become typed graph inputs, so the
   * model it parses stays small whatever the weights weigh; small ones keep their values, which
   * data propagation reads.
   */
  private static ModelProto skeleton(OnnxModel model, Graph g) {
    ModelProto full = model.withGraph(g).proto();
    var graph = full.getGraph().toBuilder().clearInitializer();
    Set<String> inputs = new HashSet<>(g.inputNames());
    for (TensorProto t : full.getGraph().getInitializerList()) {
      if (TensorTypes.elementCount(t) <= INFERENCE_INLINE_ELEMENTS && ExternalData.refOf(t).isEmpty()) {
        graph.addInitializer(t);
      } else if (!inputs.contains(t.getName())) {
        graph.addInput(tensorInput(t));
      }
    }
    return full.toBuilder().setGraph(graph).build();
  }

  private static ValueInfoProto tensorInput(TensorProto t) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    t.getDimsList().forEach(d -> shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d)));
    ValueInfoProto.Builder v = ValueInfoProto.newBuilder().setName(t.getName());
    v.getTypeBuilder().getTensorTypeBuilder().setElemType(t.getDataType()).setShape(shape);
    return v.build();
  }

  private static Optional<long[]> staticDims(ValueInfoProto v) {
    if (!v.getType().hasTensorType() || !v.getType().getTensorType().hasShape()) {
      return Optional.empty();
    }
    List<TensorShapeProto.Dimension> dims = v.getType().getTensorType().getShape().getDimList();
    long[] out = new long[dims.size()];
    for (int i = 0; i < out.length; i++) {
      if (!dims.get(i).hasDimValue()) {
        return Optional.empty();
      }
      out[i] = dims.get(i).getDimValue();
    }
    return Optional.of(out);
  }

  /**
   * Evaluates, in graph order, every node of the shape arithmetic whose inputs are known, and
   * replaces those nodes by initializers holding their results. Graph outputs are left computed.
   *
   * @return how many nodes were folded
   */
  private static int fold(OnnxModel model, Graph g, Map<String, long[]> staticShapes) {
    Map<String, IntTensor> known = new HashMap<>();
    Set<String> inputs = new HashSet<>(g.inputNames());
    for (TensorProto t : g.initializers().values()) {
      if (inputs.contains(t.getName())) {
        // An initializer that is also a graph input (IR < 4) is only a default: callers may feed another value.
        continue;
      }
      DataType type = DataType.forNumber(t.getDataType());
      if ((type == DataType.INT64 || type == DataType.INT32) && TensorTypes.elementCount(t) <= MAX_FOLDED_ELEMENTS) {
        long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
        known.put(t.getName(), IntTensor.fromRaw(type, dims, ExternalData.rawBytes(t, model)));
      }
    }
    Set<String> outputs = new HashSet<>(g.outputNames());
    Map<String, IntTensor> folded = new LinkedHashMap<>();
    for (Node n : g.nodes()) {
      if (!n.inDefaultDomain()) {
        continue;
      }
      Optional<IntTensor> value = n.opType().equals("Constant") ? constantValue(model, n) : evaluate(n, known, staticShapes, opset(model));
      if (value.isEmpty() || value.get().values().length > MAX_FOLDED_ELEMENTS || n.outputs().size() != 1) {
        continue;
      }
      String out = n.outputs().get(0);
      known.put(out, value.get());
      if (!n.opType().equals("Constant") && !outputs.contains(out)) {
        folded.put(out, value.get());
      }
    }
    g.removeProducersOf(folded.keySet());
    folded.forEach((name, value) -> g.addInitializer(value.toProto(name)));
    return folded.size();
  }

  /**
   * Rewrites each Unsqueeze of several axes as a chain of single-axis Unsqueezes, inserting the
   * axes in ascending order of their output position, which gives the same result. OpenCV DNN
   * 4.11 rejects multi-axis Unsqueeze of a run-time tensor ("Multidimensional unsqueeze").
   */
  private static void splitUnsqueezes(OnnxModel model, Graph g, Map<String, long[]> shapes) {
    long opset = opset(model);
    int count = g.nodes().size();
    for (int i = 0; i < count; i++) {
      Node n = g.nodes().get(i);
      if (!n.opType().equals("Unsqueeze") || !n.inDefaultDomain()) {
        continue;
      }
      long[] axes = opset >= 13 ? constantInput(model, g, n.inputs().get(1)).map(IntTensor::values).orElse(null) : intsAttrOrNull(n, "axes");
      if (axes == null || axes.length < 2) {
        continue;
      }
      String x = n.inputs().get(0);
      String y = n.outputs().get(0);
      long[] inShape = shapes.get(x);
      int outRank;
      if (inShape != null) {
        outRank = inShape.length + axes.length;
      } else if (java.util.Arrays.stream(axes).allMatch(a -> a >= 0)) {
        outRank = Integer.MAX_VALUE;
      } else {
        continue;
      }
      long[] sorted = java.util.Arrays.stream(axes).map(a -> a < 0 ? a + outRank : a).sorted().toArray();
      String in = x;
      for (int k = 0; k < sorted.length; k++) {
        String out = k == sorted.length - 1 ? y : y + "/onnx_skip_unsqueeze_" + k;
        var b = n.proto().toBuilder().clearInput().clearOutput().clearAttribute().addInput(in).addOutput(out);
        if (!n.name().isEmpty()) {
          b.setName(n.name() + "/onnx_skip_split_" + k);
        }
        if (opset >= 13) {
          String axesName = y + "/onnx_skip_unsqueeze_axes_" + k;
          g.addInitializer(IntTensor.vector(sorted[k]).toProto(axesName));
          b.addInput(axesName);
        } else {
          b.addAttribute(AttributeProto.newBuilder().setName("axes").setType(AttributeProto.AttributeType.INTS).addInts(sorted[k]));
        }
        if (k == 0) {
          g.replaceNode(i, new Node(b.build()));
        } else {
          g.addNode(new Node(b.build()));
        }
        in = out;
      }
    }
  }

  /** An int tensor that an initializer or a Constant node defines. */
  private static Optional<IntTensor> constantInput(OnnxModel model, Graph g, String name) {
    TensorProto t = g.initializers().get(name);
    if (t != null) {
      DataType type = DataType.forNumber(t.getDataType());
      if (type != DataType.INT64 && type != DataType.INT32) {
        return Optional.empty();
      }
      long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
      return Optional.of(IntTensor.fromRaw(type, dims, ExternalData.rawBytes(t, model)));
    }
    for (Node n : g.nodes()) {
      if (n.opType().equals("Constant") && n.outputs().contains(name)) {
        return constantValue(model, n);
      }
    }
    return Optional.empty();
  }

  private static long opset(OnnxModel model) {
    return model.opset("").orElse(1L);
  }

  private static Optional<IntTensor> constantValue(OnnxModel model, Node n) {
    for (AttributeProto a : n.proto().getAttributeList()) {
      switch (a.getName()) {
        case "value" -> {
          TensorProto t = a.getT();
          DataType type = DataType.forNumber(t.getDataType());
          if ((type == DataType.INT64 || type == DataType.INT32) && ExternalData.refOf(t).isEmpty()
              && TensorTypes.elementCount(t) <= MAX_FOLDED_ELEMENTS) {
            long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
            return Optional.of(IntTensor.fromRaw(type, dims, ExternalData.rawBytes(t, model)));
          }
        }
        case "value_int" -> {
          return Optional.of(IntTensor.scalar(a.getI()));
        }
        case "value_ints" -> {
          return Optional.of(IntTensor.vector(a.getIntsList().stream().mapToLong(Long::longValue).toArray()));
        }
        default -> {
          // float and string constants are not shape arithmetic
        }
      }
    }
    return Optional.empty();
  }

  /** The node's single output, if it is shape arithmetic over known values; empty otherwise. */
  private static Optional<IntTensor> evaluate(Node n, Map<String, IntTensor> known, Map<String, long[]> staticShapes, long opset) {
    if (!FOLDABLE.contains(n.opType())) {
      return Optional.empty();
    }
    List<String> in = n.inputs();
    if (n.opType().equals("Shape") || n.opType().equals("Size")) {
      long[] shape = known.containsKey(in.get(0)) ? known.get(in.get(0)).shape() : staticShapes.get(in.get(0));
      if (shape == null) {
        return Optional.empty();
      }
      if (n.opType().equals("Size")) {
        return Optional.of(IntTensor.scalar(IntTensor.count(shape)));
      }
      int rank = shape.length;
      long start = clampAxis(intAttr(n, "start", 0), rank);
      long end = clampAxis(intAttr(n, "end", rank), rank);
      long[] dims = new long[(int) Math.max(0, end - start)];
      System.arraycopy(shape, (int) start, dims, 0, dims.length);
      return Optional.of(IntTensor.vector(dims));
    }
    List<IntTensor> args = new ArrayList<>();
    for (String name : in) {
      if (name.isEmpty()) {
        args.add(null);
        continue;
      }
      IntTensor t = known.get(name);
      if (t == null) {
        return Optional.empty();
      }
      args.add(t);
    }
    try {
      return Optional.ofNullable(compute(n, args, opset));
    } catch (IllegalArgumentException e) {
      // Shape arithmetic this pass does not understand stays computed at run time.
      return Optional.empty();
    }
  }

  private static IntTensor compute(Node n, List<IntTensor> args, long opset) {
    IntTensor x = args.get(0);
    return switch (n.opType()) {
      case "Identity" -> x;
      case "Gather" -> x.gather(args.get(1), intAttr(n, "axis", 0));
      case "Concat" -> IntTensor.concat(args, intAttr(n, "axis", 0));
      case "Cast" -> {
        DataType to = DataType.forNumber((int) intAttr(n, "to", 0));
        yield to == DataType.INT64 || to == DataType.INT32 ? x.castTo(to) : null;
      }
      case "Unsqueeze" -> {
        long[] axes = opset >= 13 ? args.get(1).values() : intsAttr(n, "axes");
        int rank = x.rank() + axes.length;
        boolean[] inserted = new boolean[rank];
        for (long a : axes) {
          inserted[IntTensor.axis(a, rank)] = true;
        }
        long[] shape = new long[rank];
        for (int d = 0, k = 0; d < rank; d++) {
          shape[d] = inserted[d] ? 1 : x.shape()[k++];
        }
        yield x.reshaped(shape);
      }
      case "Squeeze" -> {
        long[] axes = opset >= 13 ? (args.size() > 1 && args.get(1) != null ? args.get(1).values() : null) : intsAttrOrNull(n, "axes");
        boolean[] removed = new boolean[x.rank()];
        if (axes == null) {
          for (int d = 0; d < x.rank(); d++) {
            removed[d] = x.shape()[d] == 1;
          }
        } else {
          for (long a : axes) {
            removed[IntTensor.axis(a, x.rank())] = true;
          }
        }
        List<Long> shape = new ArrayList<>();
        for (int d = 0; d < x.rank(); d++) {
          if (!removed[d]) {
            shape.add(x.shape()[d]);
          }
        }
        yield x.reshaped(shape.stream().mapToLong(Long::longValue).toArray());
      }
      case "Reshape" -> x.reshaped(reshapeTarget(x.shape(), args.get(1).values(), intAttr(n, "allowzero", 0) == 1));
      case "Slice" -> {
        long[] starts;
        long[] ends;
        long[] axes;
        long[] steps = null;
        if (opset >= 10) {
          starts = args.get(1).values();
          ends = args.get(2).values();
          axes = args.size() > 3 && args.get(3) != null ? args.get(3).values() : null;
          steps = args.size() > 4 && args.get(4) != null ? args.get(4).values() : null;
        } else {
          starts = intsAttr(n, "starts");
          ends = intsAttr(n, "ends");
          axes = intsAttrOrNull(n, "axes");
        }
        if (axes == null) {
          axes = new long[starts.length];
          for (int i = 0; i < axes.length; i++) {
            axes[i] = i;
          }
        }
        if (steps == null) {
          steps = new long[starts.length];
          java.util.Arrays.fill(steps, 1);
        }
        yield x.slice(starts, ends, axes, steps);
      }
      case "Add", "Sub", "Mul", "Div" -> x.arithmetic(n.opType(), args.get(1));
      default -> null;
    };
  }

  /** Reshape's target with 0 (copy the input dimension, unless allowzero) and -1 (infer) resolved. */
  private static long[] reshapeTarget(long[] input, long[] target, boolean allowZero) {
    long[] out = target.clone();
    int infer = -1;
    long known = 1;
    for (int i = 0; i < out.length; i++) {
      if (out[i] == 0 && !allowZero) {
        out[i] = input[i];
      }
      if (out[i] == -1) {
        if (infer >= 0) {
          throw new IllegalArgumentException("two -1 dimensions in a Reshape target");
        }
        infer = i;
      } else {
        known *= out[i];
      }
    }
    if (infer >= 0) {
      out[infer] = known == 0 ? 0 : IntTensor.count(input) / known;
    }
    if (IntTensor.count(out) != IntTensor.count(input)) {
      throw new IllegalArgumentException("Reshape target holds a different number of elements");
    }
    return out;
  }

  private static long clampAxis(long axis, int rank) {
    long a = axis < 0 ? axis + rank : axis;
    return Math.max(0, Math.min(a, rank));
  }

  private static long intAttr(Node n, String name, long fallback) {
    for (AttributeProto a : n.proto().getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getI();
      }
    }
    return fallback;
  }

  private static long[] intsAttr(Node n, String name) {
    long[] v = intsAttrOrNull(n, name);
    if (v == null) {
      throw new IllegalArgumentException(n.label() + " has no attribute " + name);
    }
    return v;
  }

  private static long[] intsAttrOrNull(Node n, String name) {
    for (AttributeProto a : n.proto().getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getIntsList().stream().mapToLong(Long::longValue).toArray();
      }
    }
    return null;
  }
}
