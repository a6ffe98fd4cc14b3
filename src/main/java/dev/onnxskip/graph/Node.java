package dev.onnxskip.graph;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One operator of a graph. A thin immutable view over its {@link NodeProto}: the protobuf keeps the
 * attributes we never interpret, and rewrites produce a new node rather than mutating one in place.
 */
public record Node(NodeProto proto) {

  public String name() {
    return proto.getName();
  }

  public String opType() {
    return proto.getOpType();
  }

  /** The operator domain; the empty string is the default ONNX domain. */
  public String domain() {
    return proto.getDomain();
  }

  /** Whether the node is a standard ONNX operator ({@code ""} or {@code "ai.onnx"} domain). */
  public boolean inDefaultDomain() {
    return Domains.isDefault(domain());
  }

  /** Positional inputs; an empty string marks an omitted optional input. */
  public List<String> inputs() {
    return proto.getInputList();
  }

  public List<String> outputs() {
    return proto.getOutputList();
  }

  /** The operator name with its domain, as users read it: {@code com.microsoft.Attention}. */
  public String qualifiedOpType() {
    return inDefaultDomain() ? opType() : domain() + "." + opType();
  }

  /** A readable handle for messages: the node name, or its op type and first output when unnamed. */
  public String label() {
    if (!name().isEmpty()) {
      return name();
    }
    return opType() + (outputs().isEmpty() ? "" : " -> " + outputs().get(0));
  }

  /** This node with every input named {@code from} replaced by {@code to}. */
  public Node withInputRenamed(String from, String to) {
    NodeProto.Builder b = proto.toBuilder();
    for (int i = 0; i < b.getInputCount(); i++) {
      if (b.getInput(i).equals(from)) {
        b.setInput(i, to);
      }
    }
    return new Node(b.build());
  }

  /**
   * Every tensor this node reads: its positional inputs plus the outer-scope tensors that its
   * subgraphs (If, Loop, Scan bodies) use. Pruning must see the latter, or it would remove the
   * producer of a tensor that only a subgraph reads.
   */
  public Set<String> allInputs() {
    Set<String> names = new LinkedHashSet<>();
    for (String in : inputs()) {
      if (!in.isEmpty()) {
        names.add(in);
      }
    }
    for (AttributeProto a : proto.getAttributeList()) {
      if (a.hasG()) {
        names.addAll(outerScopeReads(a.getG()));
      }
      for (GraphProto g : a.getGraphsList()) {
        names.addAll(outerScopeReads(g));
      }
    }
    return names;
  }

  private static Set<String> outerScopeReads(GraphProto g) {
    Set<String> defined = new LinkedHashSet<>();
    g.getInputList().forEach(v -> defined.add(v.getName()));
    g.getInitializerList().forEach(t -> defined.add(t.getName()));
    g.getNodeList().forEach(n -> defined.addAll(n.getOutputList()));
    Set<String> reads = new LinkedHashSet<>();
    for (NodeProto n : g.getNodeList()) {
      for (String in : new Node(n).allInputs()) {
        if (!defined.contains(in)) {
          reads.add(in);
        }
      }
    }
    return reads;
  }
}
