package dev.onnxskip.eval;

import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.RunTimes;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Measured speed of the baseline and of each skip variant, each run as the standalone model a
 * deployment would load.
 *
 * @param variants the baseline first, then the spans in the order of the run's variants
 */
public record Latencies(Settings settings, List<VariantLatency> variants) {

  /**
   * Where and how the speed was measured.
   *
   * @param device the device the sessions ran on, as the runtime notes it
   * @param threads intra-op threads, 0 for ONNX Runtime's default
   * @param sequenceLength tokens of the batch-1 input: the median token count of the data
   * @param batchSize rows of the throughput input: the run's batch size
   * @param batchSequenceLength tokens per row of the throughput input (its longest example)
   */
  public record Settings(String device, int threads, int warmup, int repeats, int sequenceLength, int batchSize,
      int batchSequenceLength) {}

  /**
   * One model's speed and size.
   *
   * @param parameters elements of its weights
   * @param fileBytes bytes of the model file, weights inlined
   * @param latency batch-1 runs at the typical sequence length
   * @param throughput runs of a batch of the run's batch size
   * @param baselineLatency the baseline's batch-1 runs, made in turn with this variant's, so that
   *     the machine's other load weighs on both alike: the speed-up is taken against these (the
   *     baseline's own runs, for the baseline)
   * @param baselineThroughput the baseline's batch runs made in turn with this variant's
   */
  public record VariantLatency(Variant variant, long parameters, long fileBytes, RunTimes latency, RunTimes throughput,
      RunTimes baselineLatency, RunTimes baselineThroughput) {
    public VariantLatency {
      Objects.requireNonNull(variant, "variant");
      Objects.requireNonNull(latency, "latency");
      Objects.requireNonNull(throughput, "throughput");
      Objects.requireNonNull(baselineLatency, "baselineLatency");
      Objects.requireNonNull(baselineThroughput, "baselineThroughput");
    }

    /** The baseline's own figures, which are their own reference. */
    public VariantLatency(Variant variant, long parameters, long fileBytes, RunTimes latency, RunTimes throughput) {
      this(variant, parameters, fileBytes, latency, throughput, latency, throughput);
    }
  }

  public Latencies {
    variants = List.copyOf(variants);
    if (variants.isEmpty() || !variants.get(0).variant().isBaseline()) {
      throw new IllegalArgumentException("the first latency must be the baseline's");
    }
  }

  public VariantLatency baseline() {
    return variants.get(0);
  }

  public Optional<VariantLatency> of(Variant variant) {
    return variants.stream().filter(v -> v.variant().equals(variant)).findFirst();
  }

  /**
   * How many times faster than the baseline the variant answers one request: the median of the
   * baseline's batch-1 runs made in turn with the variant's over the median of the variant's.
   */
  public double speedup(VariantLatency v) {
    return v.baselineLatency().median() / v.latency().median();
  }

  /** How many times the baseline's examples per second the variant gets through at the batch size (runs in turn, as above). */
  public double throughputSpeedup(VariantLatency v) {
    return v.throughput().examplesPerSecond() / v.baselineThroughput().examplesPerSecond();
  }
}
