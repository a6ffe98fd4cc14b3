package dev.onnxskip.spark;

import java.io.Serializable;
import java.util.List;

/**
 * What every task of a run needs beside its batches: the run's settings, the device and threads
 * its engine runs with, and the variants to evaluate. The same for all tasks, so it also keys the
 * engine an executor keeps between tasks.
 *
 * @param config the run's {@code EvalConfig}, in {@link Shipped} form
 * @param device the device the driver resolved ({@code auto} already decided), in {@link Shipped} form
 * @param threads intra-op threads of each task's runs
 * @param modelSha256 the source model's digest, which the naive engine's variants record
 * @param variants the variants to evaluate, in {@link Shipped} form
 * @param failFirstAttemptOf a partition whose first attempt fails on purpose, or -1: how tests show
 *     that Spark's retry gives the same results
 */
record JobSpec(Serializable config, Serializable device, int threads, String modelSha256, List<Serializable> variants,
    int failFirstAttemptOf) implements Serializable {

  /** Which engine an executor may reuse for this run: the settings that make it, not the variants. */
  String engineKey() {
    return modelSha256 + " " + threads + " " + Shipped.restore(device, Object.class) + " " + Shipped.restore(config, Object.class);
  }
}
