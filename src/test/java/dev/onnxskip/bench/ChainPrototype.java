package dev.onnxskip.bench;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.eval.Batch;
import dev.onnxskip.eval.BatchSource;
import dev.onnxskip.eval.ClassifierSignature;
import dev.onnxskip.eval.EvalEngine;
import dev.onnxskip.eval.Runtime;
import dev.onnxskip.eval.TokenFeeds;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.SubModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/** Candidate: embeddings session + one "chain" session whose blocks each sit in an If (run or pass through). */
final class ChainPrototype implements EvalEngine, AutoCloseable {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  private final EncoderLayout layout;
  private final ClassifierSignature signature;
  private final BatchSource batches;
  private final int stackTokens;
  private final OrtSession embeddings;
  private final OrtSession chain;
  private final Set<String> tokenInputs = new HashSet<>();
  private final OnnxTensor yes;
  private final OnnxTensor no;

  ChainPrototype(OnnxModel model, EncoderLayout layout, ClassifierSignature signature, Runtime runtime, BatchSource batches, int stackTokens) {
    this.layout = layout;
    this.signature = signature;
    this.batches = batches;
    this.stackTokens = stackTokens;
    OnnxModel inlined = ExternalData.inline(model);
    try (OrtSession.SessionOptions opts = runtime.sessionOptions()) {
      embeddings = ENV.createSession(SubModels.prefix(inlined, layout, 0).proto().toByteArray(), opts);
      long t0 = System.nanoTime();
      OnnxModel c = chain(inlined, layout, signature.logitsOutput());
      chain = ENV.createSession(c.proto().toByteArray(), opts);
      System.err.printf("chain: %d nodes, session %.2fs%n", c.proto().getGraph().getNodeCount(), (System.nanoTime() - t0) / 1e9);
      yes = OnnxTensor.createTensor(ENV, true);
      no = OnnxTensor.createTensor(ENV, false);
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    }
    for (ClassifierSignature.TokenInput in : signature.inputs()) {
      if (embeddings.getInputNames().contains(in.name()) || chain.getInputNames().contains(in.name())) {
        tokenInputs.add(in.name());
      }
    }
  }

  static String cond(int k) {
    return "onnx_skip/run_layer_" + k;
  }

  /** The model after the embeddings, each block wrapped in If(run_k, block, identity). */
  static OnnxModel chain(OnnxModel inlined, EncoderLayout layout, String logitsOutput) {
    int layers = layout.layers();
    OnnxModel cut = SubModels.extract(inlined, layout, List.of(layout.boundary(0)), List.of(logitsOutput));
    Graph g = cut.graph();
    Map<String, Integer> boundaryIndex = new HashMap<>();
    for (int k = 0; k <= layers; k++) {
      boundaryIndex.put(layout.boundary(k), k);
    }
    Map<String, Integer> depth = new HashMap<>(boundaryIndex);
    List<List<NodeProto>> blockNodes = new ArrayList<>();
    for (int k = 0; k < layers; k++) {
      blockNodes.add(new ArrayList<>());
    }
    List<NodeProto> side = new ArrayList<>();
    List<NodeProto> head = new ArrayList<>();
    Map<String, Set<Integer>> initializerUsers = new HashMap<>();
    for (Node node : g.nodes()) {
      int d = -1;
      for (String in : node.allInputs()) {
        d = Math.max(d, depth.getOrDefault(in, -1));
      }
      for (String in : node.allInputs()) {
        int di = depth.getOrDefault(in, -1);
        if (di >= 0 && di != d) {
          throw new OnnxSkipException("node '" + node.label() + "' of layer " + d + " reads '" + in + "' of layer " + di);
        }
        if (g.initializers().containsKey(in)) {
          initializerUsers.computeIfAbsent(in, x -> new HashSet<>()).add(d >= 0 && d < layers ? d : -1);
        }
      }
      for (String out : node.outputs()) {
        Integer b = boundaryIndex.get(out);
        if (b != null && b != d + 1) {
          throw new OnnxSkipException("boundary '" + out + "' is not written by layer " + (b - 1));
        }
        if (b == null && !out.isEmpty()) {
          depth.put(out, d);
        }
      }
      if (d < 0) {
        side.add(node.proto());
      } else if (d < layers) {
        blockNodes.get(d).add(node.proto());
      } else {
        head.add(node.proto());
      }
    }
    GraphProto whole = g.toProto();
    Map<String, TensorProto> inits = new HashMap<>();
    whole.getInitializerList().forEach(t -> inits.put(t.getName(), t));
    Map<String, ValueInfoProto> infos = new HashMap<>();
    whole.getValueInfoList().forEach(v -> infos.put(v.getName(), v));
    GraphProto.Builder main = whole.toBuilder().clearNode().clearInitializer().clearValueInfo().clearOutput();
    main.addAllNode(side);
    Set<String> moved = new HashSet<>();
    for (int k = 0; k < layers; k++) {
      String in = layout.boundary(k);
      String out = layout.boundary(k + 1);
      GraphProto.Builder run = GraphProto.newBuilder().setName("onnx_skip_layer_" + k + "_run");
      for (NodeProto p : blockNodes.get(k)) {
        NodeProto.Builder b = p.toBuilder();
        for (int i = 0; i < b.getOutputCount(); i++) {
          if (b.getOutput(i).equals(out)) {
            b.setOutput(i, out + "/run");
          }
          ValueInfoProto vi = infos.get(b.getOutput(i));
          if (vi != null) {
            run.addValueInfo(vi);
            moved.add(vi.getName());
          }
        }
        for (String name : b.getInputList()) {
          Set<Integer> users = initializerUsers.get(name);
          if (users != null && users.equals(Set.of(k)) && moved.add(name)) {
            run.addInitializer(inits.get(name));
          }
        }
        run.addNode(b);
      }
      run.addOutput(stream(layout, out + "/run"));
      GraphProto.Builder skip = GraphProto.newBuilder().setName("onnx_skip_layer_" + k + "_skip")
          .addNode(NodeProto.newBuilder().setOpType("Identity").setName("/onnx_skip/layer_" + k + "_skip/Identity").addInput(in).addOutput(out + "/skip"))
          .addOutput(stream(layout, out + "/skip"));
      main.addNode(NodeProto.newBuilder().setOpType("If").setName("/onnx_skip/layer_" + k + "/If").addInput(cond(k)).addOutput(out)
          .addAttribute(AttributeProto.newBuilder().setName("then_branch").setType(AttributeProto.AttributeType.GRAPH).setG(run))
          .addAttribute(AttributeProto.newBuilder().setName("else_branch").setType(AttributeProto.AttributeType.GRAPH).setG(skip)));
      main.addInput(ValueInfoProto.newBuilder().setName(cond(k)).setType(TypeProto.newBuilder().setTensorType(
          TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.BOOL_VALUE).setShape(TensorShapeProto.newBuilder()))));
      main.addOutput(stream(layout, out));
    }
    main.addAllNode(head);
    inits.forEach((name, t) -> {
      if (!moved.contains(name)) {
        main.addInitializer(t);
      }
    });
    infos.forEach((name, v) -> {
      if (!moved.contains(name)) {
        main.addValueInfo(v);
      }
    });
    main.addOutput(whole.getOutput(whole.getOutputList().stream().map(ValueInfoProto::getName).toList().indexOf(logitsOutput)));
    return cut.withGraph(Graph.fromProto(main.build()));
  }

  private static ValueInfoProto stream(EncoderLayout layout, String name) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
        .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
        .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("sequence"));
    shape.addDim(layout.hiddenSize() > 0
        ? TensorShapeProto.Dimension.newBuilder().setDimValue(layout.hiddenSize())
        : TensorShapeProto.Dimension.newBuilder().setDimParam("hidden"));
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
        TypeProto.Tensor.newBuilder().setElemType(layout.streamElemType()).setShape(shape))).build();
  }

  @Override
  public String name() {
    return "chain";
  }

  @Override
  public void run(List<Optional<SkipSpan>> todo, Set<Integer> skipBatches, Sink sink, Progress progress) {
    boolean wantBaseline = todo.contains(Optional.<SkipSpan>empty());
    TreeMap<Integer, List<Integer>> startsByEnd = new TreeMap<>();
    for (Optional<SkipSpan> s : todo) {
      s.ifPresent(span -> startsByEnd.computeIfAbsent(span.end(), e -> new ArrayList<>()).add(span.start()));
    }
    startsByEnd.values().forEach(java.util.Collections::sort);
    int layers = layout.layers();
    FloatBuffer states = direct(0);
    FloatBuffer scratch = direct(0);
    for (int b = 0; b < batches.batchCount(); b++) {
      if (skipBatches.contains(b)) {
        continue;
      }
      Batch batch = batches.batch(b);
      int n = batch.batchSize();
      int seq = batch.seqLen();
      Map<Integer, Map<String, OnnxTensor>> tokens = new HashMap<>();
      try {
        long hidden;
        try (OrtSession.Result r = embeddings.run(feeds(embeddings, tokens, batch, 1))) {
          OnnxTensor h0 = (OnnxTensor) r.get(0);
          hidden = h0.getInfo().getShape()[2];
          long size = n * seq * hidden;
          if (states.capacity() < (layers + 1) * size) {
            states = direct((int) ((layers + 1) * size));
          }
          slice(states, 0, size).put(h0.getFloatBuffer());
        }
        long size = n * seq * hidden;
        int maxCopies = (int) Math.max(1, Math.min(layers, stackTokens / ((long) n * seq)));
        if (scratch.capacity() < maxCopies * size) {
          scratch = direct((int) (maxCopies * size));
        }
        long[] one = {n, seq, hidden};
        Map<String, OnnxTensor> pinned = new HashMap<>();
        Map<String, OnnxTensor> feeds = feeds(chain, tokens, batch, 1);
        try (OnnxTensor x = OnnxTensor.createTensor(ENV, slice(states, 0, size), one)) {
          for (int k = 0; k < layers; k++) {
            pinned.put(layout.boundary(k + 1), OnnxTensor.createTensor(ENV, slice(states, (k + 1) * size, size), one));
            feeds.put(cond(k), yes);
          }
          feeds.put(layout.boundary(0), x);
          try (OrtSession.Result r = chain.run(feeds, Set.of(signature.logitsOutput()), pinned)) {
            if (wantBaseline) {
              sink.done(Optional.empty(), batch.exampleIndices(), (float[][]) r.get(signature.logitsOutput()).get().getValue());
            }
          }
        } finally {
          pinned.values().forEach(OnnxTensor::close);
        }
        for (var group : startsByEnd.entrySet()) {
          int end = group.getKey();
          List<Integer> starts = group.getValue();
          for (int from = 0; from < starts.size(); from += maxCopies) {
            List<Integer> chunk = starts.subList(from, Math.min(starts.size(), from + maxCopies));
            int copies = chunk.size();
            FloatBuffer in;
            if (chunk.get(copies - 1) - chunk.get(0) == copies - 1) {
              in = slice(states, chunk.get(0) * size, copies * size);
            } else {
              in = slice(scratch, 0, copies * size);
              for (int i = 0; i < copies; i++) {
                slice(in, i * size, size).put(slice(states, chunk.get(i) * size, size));
              }
            }
            Map<String, OnnxTensor> f = feeds(chain, tokens, batch, copies);
            for (int k = 0; k < layers; k++) {
              f.put(cond(k), k > end ? yes : no);
            }
            try (OnnxTensor x = OnnxTensor.createTensor(ENV, in, new long[] {(long) copies * n, seq, hidden})) {
              f.put(layout.boundary(0), x);
              try (OrtSession.Result r = chain.run(f, Set.of(signature.logitsOutput()))) {
                float[][] logits = (float[][]) r.get(0).getValue();
                for (int i = 0; i < copies; i++) {
                  sink.done(Optional.of(new SkipSpan(chunk.get(i), end)), batch.exampleIndices(), Arrays.copyOfRange(logits, i * n, (i + 1) * n));
                }
              }
            }
          }
        }
      } catch (OrtException e) {
        throw new IllegalStateException(e);
      } finally {
        tokens.values().forEach(m -> m.values().forEach(OnnxTensor::close));
      }
      sink.flush();
      progress.examples(n * todo.size());
    }
  }

  private Map<String, OnnxTensor> feeds(OrtSession s, Map<Integer, Map<String, OnnxTensor>> cache, Batch batch, int copies) throws OrtException {
    Map<String, OnnxTensor> t = cache.get(copies);
    if (t == null) {
      t = TokenFeeds.create(signature.inputs(), tokenInputs, batch, copies);
      cache.put(copies, t);
    }
    Map<String, OnnxTensor> out = new HashMap<>();
    for (String name : s.getInputNames()) {
      if (t.containsKey(name)) {
        out.put(name, t.get(name));
      }
    }
    return out;
  }

  static FloatBuffer direct(int floats) {
    return ByteBuffer.allocateDirect(floats * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
  }

  static FloatBuffer slice(FloatBuffer b, long offset, long length) {
    return b.duplicate().position((int) offset).limit((int) (offset + length)).slice();
  }

  @Override
  public void close() {
    try {
      embeddings.close();
      chain.close();
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    }
    yes.close();
    no.close();
  }
}
