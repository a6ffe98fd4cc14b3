package dev.onnxskip.spark;

import java.util.concurrent.Callable;

/**
 * Runs work on a thread with a large stack. ONNX Runtime and the tokenizer's native code overflowed
 * the JVM's default thread stack (a segmentation fault, not an exception) in a JVM started with a
 * classpath as long as a Spark installation's, as spark-submit starts drivers and executors; with
 * the short classpath of {@code bin/onnx-skip} it did not happen. Threads whose stack size the JVM
 * options decide (the main thread, Spark's task threads) cannot be trusted with it.
 */
final class BigStack {

  static final long BYTES = 64L << 20;

  private BigStack() {}

  static <T> T call(String name, Callable<T> work) {
    Object[] result = new Object[1];
    Throwable[] failure = new Throwable[1];
    Thread thread = new Thread(null, () -> {
      try {
        result[0] = work.call();
      } catch (Throwable t) {
        failure[0] = t;
      }
    }, name, BYTES);
    thread.setContextClassLoader(Thread.currentThread().getContextClassLoader());
    thread.start();
    try {
      thread.join();
    } catch (InterruptedException e) {
      // Spark kills a task by interrupting its thread; the work's thread is told too.
      thread.interrupt();
      Thread.currentThread().interrupt();
      throw new IllegalStateException(name + " was interrupted", e);
    }
    if (failure[0] instanceof RuntimeException e) {
      throw e;
    }
    if (failure[0] instanceof Error e) {
      throw e;
    }
    if (failure[0] != null) {
      throw new IllegalStateException(failure[0]);
    }
    @SuppressWarnings("unchecked")
    T value = (T) result[0];
    return value;
  }
}
