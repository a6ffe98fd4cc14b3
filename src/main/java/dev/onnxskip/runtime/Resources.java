package dev.onnxskip.runtime;

import java.util.ArrayList;
import java.util.List;

/**
 * How native resources (sessions, their options, tensors) are closed everywhere: the last opened
 * first, as try-with-resources would, every one of them even when some fail, so that a failure to
 * release one does not leak the rest; the first failure is the one reported, with the later ones
 * added to it as suppressed.
 */
public final class Resources {
  private Resources() {}

  /** {@link #closeAll(List, Class)} for resources whose {@code close} declares no checked exception. */
  public static void closeAll(List<? extends AutoCloseable> inOpeningOrder) {
    closeAll(inOpeningOrder, RuntimeException.class);
  }

  /**
   * Closes every resource, last opened first, then rethrows the first failure, with the later ones
   * suppressed in it.
   *
   * @param declared the checked exception the resources' {@code close} methods declare; a failure
   *     of another checked type, which only a resource declaring more can throw, arrives wrapped in
   *     an {@link IllegalStateException}
   */
  public static <X extends Exception> void closeAll(List<? extends AutoCloseable> inOpeningOrder, Class<X> declared) throws X {
    List<Throwable> failures = closeEach(inOpeningOrder);
    if (failures.isEmpty()) {
      return;
    }
    Throwable first = failures.get(0);
    failures.stream().skip(1).filter(t -> t != first).forEach(first::addSuppressed);
    if (first instanceof RuntimeException r) {
      throw r;
    }
    if (first instanceof Error e) {
      throw e;
    }
    if (declared.isInstance(first)) {
      throw declared.cast(first);
    }
    throw new IllegalStateException("closing failed: " + first.getMessage(), first);
  }

  /**
   * Cleanup after {@code primary} went wrong: closes every resource, last opened first, adding each
   * failure to {@code primary} as suppressed, so that the failure that stopped the work stays the
   * one reported.
   */
  public static void closeAllAfter(Throwable primary, List<? extends AutoCloseable> inOpeningOrder) {
    closeEach(inOpeningOrder).stream().filter(t -> t != primary).forEach(primary::addSuppressed);
  }

  /** Closes every resource, last opened first; returns the failures in the order they happened. */
  private static List<Throwable> closeEach(List<? extends AutoCloseable> inOpeningOrder) {
    List<Throwable> failures = new ArrayList<>();
    for (int i = inOpeningOrder.size() - 1; i >= 0; i--) {
      try {
        inOpeningOrder.get(i).close();
      } catch (Throwable t) {
        failures.add(t);
      }
    }
    return failures;
  }
}
