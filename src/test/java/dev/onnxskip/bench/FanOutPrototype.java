package dev.onnxskip.bench;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/** Candidate engine: one "fan-out" graph per run holding the baseline and every span, stacked per end layer. */
final class FanOutPrototype implements EvalEngine {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  private final OnnxModel model;
  private final EncoderLayout layout;
  private final ClassifierSignature signature;
  private final Runtime runtime;
  private final BatchSource batches;
  private final int maxCopies;

  FanOutPrototype(OnnxModel model, EncoderLayout layout, ClassifierSignature signature, Runtime runtime, BatchSource batches, int maxCopies) {
    this.model = ExternalData.inline(model);
    this.layout = layout;
    this.signature = signature;
    this.runtime = runtime;
    this.batches = batches;
    this.maxCopies = maxCopies;
  }

  @Override
  public String name() {
    return "fanout";
  }

  record Group(int end, List<Integer> starts, String output) {}

  @Override
  public void run(List<Optional<SkipSpan>> todo, Set<Integer> skipBatches, Sink sink, Progress progress) {
    boolean wantBaseline = todo.contains(Optional.<SkipSpan>empty());
    TreeMap<Integer, List<Integer>> startsByEnd = new TreeMap<>();
    for (Optional<SkipSpan> s : todo) {
      s.ifPresent(span -> startsByEnd.computeIfAbsent(span.end(), e -> new ArrayList<>()).add(span.start()));
    }
    List<Group> groups = new ArrayList<>();
    for (var e : startsByEnd.entrySet()) {
      List<Integer> starts = e.getValue().stream().sorted().toList();
      for (int from = 0; from < starts.size(); from += maxCopies) {
        groups.add(new Group(e.getKey(), starts.subList(from, Math.min(starts.size(), from + maxCopies)), "onnx_skip/logits_" + groups.size()));
      }
    }
    long t0 = System.nanoTime();
    OnnxModel fan = build(wantBaseline, groups);
    byte[] bytes = fan.proto().toByteArray();
    long t1 = System.nanoTime();
    try (OrtSession.SessionOptions opts = runtime.sessionOptions(); OrtSession session = ENV.createSession(bytes, opts)) {
      System.err.printf("fanout: %d nodes, build %.2fs, session %.2fs%n", fan.proto().getGraph().getNodeCount(), (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9);
      for (int b = 0; b < batches.batchCount(); b++) {
        if (skipBatches.contains(b)) {
          continue;
        }
        Batch batch = batches.batch(b);
        int n = batch.batchSize();
        Map<String, OnnxTensor> feeds = TokenFeeds.create(signature.inputs(), session.getInputNames(), batch, 1);
        try (OrtSession.Result r = session.run(feeds)) {
          if (wantBaseline) {
            sink.done(Optional.empty(), batch.exampleIndices(), (float[][]) r.get(signature.logitsOutput()).get().getValue());
          }
          for (Group g : groups) {
            float[][] logits = (float[][]) r.get(g.output()).get().getValue();
            for (int i = 0; i < g.starts().size(); i++) {
              sink.done(Optional.of(new SkipSpan(g.starts().get(i), g.end())), batch.exampleIndices(), Arrays.copyOfRange(logits, i * n, (i + 1) * n));
            }
          }
        } finally {
          feeds.values().forEach(OnnxTensor::close);
        }
        sink.flush();
        progress.examples(n * todo.size());
      }
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    }
  }

  OnnxModel build(boolean wantBaseline, List<Group> groups) {
    Graph g = model.graph();
    List<ValueInfoProto> outputs = new ArrayList<>();
    if (wantBaseline) {
      outputs.add(g.outputs().get(g.outputNames().indexOf(signature.logitsOutput())));
    }
    Set<String> tokenNames = new HashSet<>();
    signature.inputs().forEach(i -> tokenNames.add(i.name()));
    Set<Integer> tiled = new HashSet<>();
    int id = 0;
    for (Group grp : groups) {
      int m = grp.starts().size();
      String suffix = "__g" + id++;
      String stack;
      if (m == 1) {
        stack = layout.boundary(grp.starts().get(0));
      } else {
        stack = "onnx_skip/stack" + suffix;
        NodeProto.Builder concat = NodeProto.newBuilder().setOpType("Concat").setName("/onnx_skip/Concat" + suffix).addOutput(stack)
            .addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(0));
        grp.starts().forEach(s -> concat.addInput(layout.boundary(s)));
        g.addNode(new Node(concat.build()));
        if (tiled.add(m)) {
          String reps = "onnx_skip/repeats_" + m;
          g.addInitializer(TensorProto.newBuilder().setName(reps).setDataType(TensorProto.DataType.INT64_VALUE).addDims(2)
              .setRawData(ByteString.copyFrom(ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(m).putLong(1).array())).build());
          for (String t : tokenNames) {
            if (g.inputNames().contains(t)) {
              g.addNode(new Node(NodeProto.newBuilder().setOpType("Tile").setName("/onnx_skip/Tile_" + t + "_" + m)
                  .addInput(t).addInput(reps).addOutput(t + "__x" + m).build()));
            }
          }
        }
      }
      OnnxModel sub = SubModels.extract(model, layout, List.of(layout.boundary(grp.end() + 1)), List.of(signature.logitsOutput()));
      Graph sg = sub.graph();
      Set<String> keep = new HashSet<>(sg.initializers().keySet());
      Map<String, String> rename = new HashMap<>();
      rename.put(layout.boundary(grp.end() + 1), stack);
      for (String t : sg.inputNames()) {
        if (tokenNames.contains(t)) {
          rename.put(t, m == 1 ? t : t + "__x" + m);
        }
      }
      for (Node node : sg.nodes()) {
        NodeProto.Builder b = node.proto().toBuilder();
        b.setName(b.getName() + suffix);
        for (int i = 0; i < b.getInputCount(); i++) {
          String in = b.getInput(i);
          if (in.isEmpty() || keep.contains(in)) {
            continue;
          }
          b.setInput(i, rename.getOrDefault(in, in + suffix));
        }
        for (int i = 0; i < b.getOutputCount(); i++) {
          if (!b.getOutput(i).isEmpty()) {
            b.setOutput(i, b.getOutput(i) + suffix);
          }
        }
        if (b.getOutputList().contains(signature.logitsOutput() + suffix)) {
          b.setOutput(b.getOutputList().indexOf(signature.logitsOutput() + suffix), grp.output());
        }
        g.addNode(new Node(b.build()));
      }
      ValueInfoProto logits = model.graph().outputs().get(model.graph().outputNames().indexOf(signature.logitsOutput()));
      ValueInfoProto.Builder out = logits.toBuilder().setName(grp.output());
      out.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(0).clearDimValue().setDimParam("stacked" + suffix);
      outputs.add(out.build());
    }
    g.setOutputs(outputs);
    g.cleanup();
    g.checkDefined();
    g.toposort();
    return model.withGraph(g);
  }
}
