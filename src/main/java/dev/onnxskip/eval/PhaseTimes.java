package dev.onnxskip.eval;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Seconds spent per {@link Phase}, added up as a run goes. Safe to add to from the threads an engine
 * reports from; a phase that never happened stays absent rather than zero.
 */
public final class PhaseTimes {
  private final EnumMap<Phase, Long> nanos = new EnumMap<>(Phase.class);

  public synchronized void add(Phase phase, long elapsedNanos) {
    nanos.merge(phase, Math.max(0, elapsedNanos), Long::sum);
  }

  /** Adds the time from {@code startNanos} (a {@link System#nanoTime()} reading) to now. */
  public void since(Phase phase, long startNanos) {
    add(phase, System.nanoTime() - startNanos);
  }

  public synchronized double seconds(Phase phase) {
    return nanos.getOrDefault(phase, 0L) / 1e9;
  }

  /** Every phase that happened, in run order. */
  public synchronized Map<Phase, Double> seconds() {
    EnumMap<Phase, Double> out = new EnumMap<>(Phase.class);
    nanos.forEach((phase, n) -> out.put(phase, n / 1e9));
    return Collections.unmodifiableMap(out);
  }

  /** "model 0.8 s · tokenize 1.2 s · ...": the closing line's breakdown. */
  public String describe() {
    StringJoiner line = new StringJoiner(" · ");
    seconds().forEach((phase, s) -> line.add(String.format(Locale.ROOT, "%s %.1f s", phase.label(), s)));
    return line.toString();
  }
}
