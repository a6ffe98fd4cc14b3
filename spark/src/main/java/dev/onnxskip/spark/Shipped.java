package dev.onnxskip.spark;

import java.io.Serializable;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * Values of the main code (records such as the run's settings, a variant, a model's outputs) in a
 * form Java serialization can send between driver and executors. Records are taken apart into their
 * components and rebuilt through their canonical constructor, so a record that gains a component
 * travels whole without a change here; the few JDK types records hold that are not serializable
 * ({@link Optional}, {@link Path}, immutable lists) get a form of their own.
 */
final class Shipped {

  private Shipped() {}

  private record RecordForm(String type, Serializable[] components) implements Serializable {}

  private record OptionalForm(Serializable value) implements Serializable {}

  private record OptionalIntForm(boolean present, int value) implements Serializable {}

  private record OptionalDoubleForm(boolean present, double value) implements Serializable {}

  private record PathForm(String path) implements Serializable {}

  private record ListForm(ArrayList<Serializable> items) implements Serializable {}

  /** {@code value} as something Java serialization sends; {@link #restore} gives it back. */
  static Serializable of(Object value) {
    if (value == null) {
      return null;
    }
    if (value instanceof Record record) {
      RecordComponent[] parts = record.getClass().getRecordComponents();
      Serializable[] components = new Serializable[parts.length];
      for (int i = 0; i < parts.length; i++) {
        try {
          components[i] = of(parts[i].getAccessor().invoke(record));
        } catch (IllegalAccessException | InvocationTargetException e) {
          throw new IllegalArgumentException("cannot read " + parts[i] + " of " + record.getClass().getName(), e);
        }
      }
      return new RecordForm(record.getClass().getName(), components);
    }
    if (value instanceof Optional<?> optional) {
      return new OptionalForm(of(optional.orElse(null)));
    }
    if (value instanceof OptionalInt optional) {
      return new OptionalIntForm(optional.isPresent(), optional.orElse(0));
    }
    if (value instanceof OptionalDouble optional) {
      return new OptionalDoubleForm(optional.isPresent(), optional.orElse(0));
    }
    if (value instanceof Path path) {
      return new PathForm(path.toString());
    }
    if (value instanceof List<?> list) {
      ArrayList<Serializable> items = new ArrayList<>(list.size());
      list.forEach(item -> items.add(of(item)));
      return new ListForm(items);
    }
    if (value instanceof Serializable serializable) {
      // Strings, boxed numbers, enums, primitive arrays (float[][] logits).
      return serializable;
    }
    throw new IllegalArgumentException("cannot send a " + value.getClass().getName() + " to the executors");
  }

  /** The value {@link #of} was given, rebuilt. */
  static <T> T restore(Serializable shipped, Class<T> type) {
    return type.cast(restore(shipped));
  }

  private static Object restore(Serializable shipped) {
    if (shipped instanceof RecordForm form) {
      return rebuild(form);
    }
    if (shipped instanceof OptionalForm form) {
      return Optional.ofNullable(restore(form.value()));
    }
    if (shipped instanceof OptionalIntForm form) {
      return form.present() ? OptionalInt.of(form.value()) : OptionalInt.empty();
    }
    if (shipped instanceof OptionalDoubleForm form) {
      return form.present() ? OptionalDouble.of(form.value()) : OptionalDouble.empty();
    }
    if (shipped instanceof PathForm form) {
      return Path.of(form.path());
    }
    if (shipped instanceof ListForm form) {
      List<Object> items = new ArrayList<>(form.items().size());
      form.items().forEach(item -> items.add(restore(item)));
      return Collections.unmodifiableList(items);
    }
    return shipped;
  }

  private static Object rebuild(RecordForm form) {
    try {
      Class<?> type = Class.forName(form.type(), true, classLoader());
      RecordComponent[] parts = type.getRecordComponents();
      if (parts == null || parts.length != form.components().length) {
        throw new IllegalStateException(form.type() + " has other components here than where it was sent from; run the same jar everywhere");
      }
      Class<?>[] types = new Class<?>[parts.length];
      Object[] values = new Object[parts.length];
      for (int i = 0; i < parts.length; i++) {
        types[i] = parts[i].getType();
        values[i] = restore(form.components()[i]);
      }
      Constructor<?> canonical = type.getDeclaredConstructor(types);
      canonical.setAccessible(true);
      return canonical.newInstance(values);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot rebuild a " + form.type() + " sent from the driver: " + e, e);
    }
  }

  /** Spark loads the application's jar in the task thread's context class loader. */
  private static ClassLoader classLoader() {
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    return context != null ? context : Shipped.class.getClassLoader();
  }
}
