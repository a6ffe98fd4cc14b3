package dev.onnxskip.runtime;

import java.util.Arrays;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;

/**
 * The wall-clock times of repeated forward passes of one model on one input, after warm-up runs that
 * are not counted.
 *
 * @param batch rows of the input
 * @param sequence tokens per row, padding included
 * @param warmup runs made and discarded before the timed ones (session start-up, memory arenas,
 *     kernel selection)
 * @param millis every timed run, in the order made
 */
public record RunTimes(int batch, int sequence, int warmup, double[] millis) {

  public RunTimes {
    if (batch < 1 || sequence < 1 || warmup < 0) {
      throw new IllegalArgumentException("batch " + batch + ", sequence " + sequence + ", warm-up " + warmup);
    }
    millis = millis.clone();
    if (millis.length == 0) {
      throw new IllegalArgumentException("no timed runs");
    }
    for (double m : millis) {
      if (!(m > 0) || Double.isInfinite(m)) {
        throw new IllegalArgumentException("a run time must be positive and finite, got " + m);
      }
    }
  }

  @Override
  public double[] millis() {
    return millis.clone();
  }

  public int repeats() {
    return millis.length;
  }

  /** The median: robust to the odd run slowed by the machine's other work. */
  public double median() {
    return percentile(50);
  }

  /** The first quartile; with {@link #q3()} the spread a reader should expect from run to run. */
  public double q1() {
    return percentile(25);
  }

  public double q3() {
    return percentile(75);
  }

  public double min() {
    return Arrays.stream(millis).min().orElseThrow();
  }

  public double max() {
    return Arrays.stream(millis).max().orElseThrow();
  }

  /** Examples per second at the median time. */
  public double examplesPerSecond() {
    return batch / (median() / 1000);
  }

  private double percentile(double p) {
    return new DescriptiveStatistics(millis).getPercentile(p);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RunTimes t && t.batch == batch && t.sequence == sequence && t.warmup == warmup && Arrays.equals(t.millis, millis);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * batch + sequence) + warmup) + Arrays.hashCode(millis);
  }

  @Override
  public String toString() {
    return "RunTimes[batch=" + batch + ", sequence=" + sequence + ", warmup=" + warmup + ", millis=" + Arrays.toString(millis) + "]";
  }
}
