package dev.onnxskip.rewrite;

import dev.onnxskip.UsageException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses span lists such as {@code 0-0,2-4} or {@code all} against a model's layer count. */
public final class SkipSpans {
  private static final Pattern SPAN = Pattern.compile("(\\d+)(?:-(\\d+))?");

  private SkipSpans() {}

  /**
   * @param text "all", or comma-separated spans "S-E" (inclusive) or single layers "K"
   * @throws UsageException for a malformed, inverted, out-of-range or duplicate span
   */
  public static List<SkipSpan> parse(String text, int layers) {
    if (text.strip().equalsIgnoreCase("all")) {
      return SkipSpan.all(layers);
    }
    return parseList(text, OptionalInt.of(layers));
  }

  /**
   * Checks what can be checked of a span list without the model (form, order within a span, repeats),
   * so that a typo is reported before a large model is read; the range waits for the layer count.
   *
   * @throws UsageException as {@link #parse} would for the same text
   */
  public static void checkText(String text) {
    if (!text.strip().equalsIgnoreCase("all")) {
      parseList(text, OptionalInt.empty());
    }
  }

  /** The listed spans in the order given, each checked against {@code layers} when it is known. */
  private static List<SkipSpan> parseList(String text, OptionalInt layers) {
    String[] parts = text.split(",", -1);
    // Mistakes of the list itself first: they explain any odd-looking span better than its range does.
    for (String part : parts) {
      if (part.isBlank()) {
        throw new UsageException("empty span in '" + text + "': spans are separated by single commas, e.g. 0-0,2-3");
      }
      if (part.strip().equalsIgnoreCase("all")) {
        throw new UsageException("'all' in '" + text + "' stands alone: it already means every span; give 'all' or a list of spans");
      }
    }
    Set<SkipSpan> spans = new LinkedHashSet<>();
    for (String part : parts) {
      SkipSpan span = layers.isPresent() ? parseOne(part.strip(), layers.getAsInt()) : usageSyntax(part.strip());
      if (!spans.add(span)) {
        throw new UsageException("span " + span + " is listed twice");
      }
    }
    return new ArrayList<>(spans);
  }

  public static SkipSpan parseOne(String text, int layers) {
    SkipSpan span = usageSyntax(text);
    if (span.end() >= layers) {
      throw new UsageException("span '" + text + "' is out of range: the model has " + layers + " layers, numbered 0-" + (layers - 1));
    }
    return span;
  }

  /** {@link #parseSyntax} for text from the command line, whose mistakes are usage errors. */
  private static SkipSpan usageSyntax(String text) {
    try {
      return parseSyntax(text);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  /**
   * The span a text "S-E" or "K" names, whatever the model: the one reading of span text, used for
   * the command line and for the span a variant file records.
   *
   * @throws IllegalArgumentException saying what is wrong with the text
   */
  public static SkipSpan parseSyntax(String text) {
    Matcher m = SPAN.matcher(text);
    if (!m.matches()) {
      throw new IllegalArgumentException("malformed span '" + text + "': expected START-END with layer numbers from 0, e.g. 2-3");
    }
    int start;
    int end;
    try {
      start = Integer.parseInt(m.group(1));
      end = m.group(2) == null ? start : Integer.parseInt(m.group(2));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("malformed span '" + text + "': layer number too large");
    }
    if (end < start) {
      throw new IllegalArgumentException(
          "inverted span '" + text + "': the first layer must not come after the last, e.g. " + end + "-" + start);
    }
    return new SkipSpan(start, end);
  }
}
