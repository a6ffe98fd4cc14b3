package dev.onnxskip.runtime;

import dev.onnxskip.UsageException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where variants run, as the user asks for it: {@code cpu}, {@code cuda} or {@code cuda:N}, or
 * {@code auto} (CUDA when it loads, otherwise the CPU).
 */
public record Device(Kind kind, int cudaDevice) {

  public enum Kind { CPU, CUDA, AUTO }

  private static final Pattern CUDA = Pattern.compile("cuda(?::(\\d+))?");

  public static final Device CPU = new Device(Kind.CPU, 0);

  public static Device parse(String text) {
    String t = text.strip().toLowerCase(java.util.Locale.ROOT);
    if (t.equals("cpu")) {
      return CPU;
    }
    if (t.equals("auto")) {
      return new Device(Kind.AUTO, 0);
    }
    Matcher m = CUDA.matcher(t);
    if (m.matches()) {
      try {
        return new Device(Kind.CUDA, m.group(1) == null ? 0 : Integer.parseInt(m.group(1)));
      } catch (NumberFormatException e) {
        throw new UsageException("unknown device '" + text + "': the CUDA device number is too large");
      }
    }
    throw new UsageException("unknown device '" + text + "': expected cpu, cuda, cuda:N or auto");
  }

  @Override
  public String toString() {
    return switch (kind) {
      case CPU -> "cpu";
      case AUTO -> "auto";
      case CUDA -> "cuda:" + cudaDevice;
    };
  }
}
