package dev.onnxskip;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The tool's version, filtered into a resource at build time so tests and the jar agree. */
public final class ToolVersion {
  private static final String VERSION = load();

  private ToolVersion() {}

  public static String get() {
    return VERSION;
  }

  private static String load() {
    try (InputStream in = ToolVersion.class.getResourceAsStream("/onnx-skip.properties")) {
      Properties p = new Properties();
      if (in != null) {
        p.load(in);
      }
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
