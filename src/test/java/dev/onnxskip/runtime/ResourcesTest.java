package dev.onnxskip.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The close policy, on fake resources that record when they are closed and may fail. */
class ResourcesTest {
  private final List<String> closed = new ArrayList<>();

  /** A resource that records its closing, then throws {@code failure} if there is one. */
  private AutoCloseable resource(String name, Exception failure) {
    return () -> {
      closed.add(name);
      if (failure != null) {
        throw failure;
      }
    };
  }

  @Test
  void closesTheLastOpenedFirst() {
    Resources.closeAll(List.of(resource("a", null), resource("b", null), resource("c", null)));
    assertEquals(List.of("c", "b", "a"), closed);
  }

  @Test
  void closesEveryResourceAndRethrowsTheFirstFailureWithTheLaterOnesSuppressed() {
    IOException fromD = new IOException("d");
    IllegalStateException fromB = new IllegalStateException("b");
    IOException fromA = new IOException("a");
    List<AutoCloseable> opened = List.of(resource("a", fromA), resource("b", fromB), resource("c", null), resource("d", fromD));
    IOException thrown = assertThrows(IOException.class, () -> Resources.closeAll(opened, IOException.class));
    assertSame(fromD, thrown, "the first failure, from the last resource opened");
    assertArrayEquals(new Throwable[] {fromB, fromA}, thrown.getSuppressed());
    assertEquals(List.of("d", "c", "b", "a"), closed);
  }

  @Test
  void anUncheckedFirstFailureIsRethrownAsItIs() {
    IllegalStateException fromB = new IllegalStateException("b");
    IOException fromA = new IOException("a");
    List<AutoCloseable> opened = List.of(resource("a", fromA), resource("b", fromB));
    IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> Resources.closeAll(opened, IOException.class));
    assertSame(fromB, thrown);
    assertArrayEquals(new Throwable[] {fromA}, thrown.getSuppressed());
  }

  @Test
  void aCheckedFailureOfAnUndeclaredTypeArrivesWrapped() {
    Exception undeclared = new Exception("odd");
    IllegalStateException thrown = assertThrows(IllegalStateException.class,
        () -> Resources.closeAll(List.of(resource("a", undeclared)), IOException.class));
    assertSame(undeclared, thrown.getCause());
    assertEquals("closing failed: odd", thrown.getMessage());
  }

  @Test
  void cleanupAfterAFailureClosesEveryResourceAndKeepsThatFailureFirst() {
    RuntimeException primary = new RuntimeException("opening failed");
    IOException fromC = new IOException("c");
    IllegalStateException fromA = new IllegalStateException("a");
    Resources.closeAllAfter(primary, List.of(resource("a", fromA), resource("b", null), resource("c", fromC)));
    assertArrayEquals(new Throwable[] {fromC, fromA}, primary.getSuppressed());
    assertEquals(List.of("c", "b", "a"), closed);
  }

  @Test
  void nothingToCloseIsNoFailure() throws IOException {
    Resources.closeAll(List.of(), IOException.class);
    Resources.closeAll(List.of(resource("a", null)), IOException.class);
    assertEquals(List.of("a"), closed);
  }
}
