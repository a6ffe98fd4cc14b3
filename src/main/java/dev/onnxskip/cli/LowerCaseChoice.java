package dev.onnxskip.cli;

import dev.onnxskip.eval.EngineKind;
import dev.onnxskip.report.RunReport;
import dev.onnxskip.rewrite.Pooling;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A closed choice on the command line, written as the lower-case name of an enum constant (any
 * case is accepted): the converter of the option, and its {@code ${COMPLETION-CANDIDATES}} in
 * --help. Picocli needs a class with a no-argument constructor for each, hence one subclass per
 * enum.
 */
abstract class LowerCaseChoice<E extends Enum<E>> implements ITypeConverter<E>, Iterable<String> {
  private final Class<E> type;
  private final String what;

  /** @param what the choice, as an error message names it: "unknown {what} 'x'" */
  LowerCaseChoice(Class<E> type, String what) {
    this.type = type;
    this.what = what;
  }

  @Override
  public E convert(String value) {
    return Arrays.stream(type.getEnumConstants())
        .filter(e -> e.name().equalsIgnoreCase(value.strip()))
        .findFirst()
        .orElseThrow(() -> new TypeConversionException("unknown " + what + " '" + value + "': expected "
            + Arrays.stream(type.getEnumConstants()).map(LowerCaseChoice::lowerCase).collect(Collectors.joining(" or "))));
  }

  @Override
  public Iterator<String> iterator() {
    return Arrays.stream(type.getEnumConstants()).map(LowerCaseChoice::lowerCase).iterator();
  }

  private static String lowerCase(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }

  static final class Engines extends LowerCaseChoice<EngineKind> {
    Engines() {
      super(EngineKind.class, "engine");
    }
  }

  static final class PredictionDetails extends LowerCaseChoice<RunReport.PredictionDetail> {
    PredictionDetails() {
      super(RunReport.PredictionDetail.class, "predictions content");
    }
  }

  static final class Poolings extends LowerCaseChoice<Pooling> {
    Poolings() {
      super(Pooling.class, "pooling");
    }
  }
}
