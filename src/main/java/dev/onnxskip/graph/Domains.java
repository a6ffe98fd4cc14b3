package dev.onnxskip.graph;

/** Operator-set domains. The default ONNX domain is written both "" and "ai.onnx" in real files. */
public final class Domains {
  /** How messages and reports spell the default domain. */
  public static final String DEFAULT = "ai.onnx";

  private Domains() {}

  public static boolean isDefault(String domain) {
    return domain.isEmpty() || domain.equals(DEFAULT);
  }
}
