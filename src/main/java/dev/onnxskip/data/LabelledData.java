package dev.onnxskip.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.onnxskip.OnnxSkipException;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.commons.csv.DuplicateHeaderMode;

/**
 * A labelled data set read from a JSON Lines, CSV or TSV file, its examples in file order.
 *
 * <p>The format follows the file extension: {@code .jsonl} (one JSON object per line), {@code .json}
 * (one JSON array of objects, or JSON Lines), {@code .csv} (RFC 4180, with a header row) or {@code .tsv}
 * (tab-separated with a header row, GLUE style). Every problem is reported as a one-line
 * {@link OnnxSkipException} naming the file and, where there is one, the line (the element, in a JSON
 * array).
 *
 * @param file the file the examples were read from
 * @param format the format it was read as
 * @param examples the examples in file order, never empty
 */
public record LabelledData(Path file, Format format, List<Example> examples) {

  /** What the data files may hold. */
  static final String EXPECTED = ".jsonl (JSON Lines), .json (an array of objects, or JSON Lines), .csv or .tsv (with a header)";

  /** The supported file formats. */
  public enum Format {
    JSON_LINES,
    /** One JSON array of objects; an example's "line" is its element number, from 1. */
    JSON_ARRAY,
    CSV,
    TSV;

    /**
     * The format implied by the extension of {@code file}, case-insensitively; a {@code .json} file
     * is JSON Lines unless its {@code content} starts with an array.
     */
    static Format of(Path file, String content) {
      Path name = file.getFileName();
      String lower = name == null ? "" : name.toString().toLowerCase(Locale.ROOT);
      if (lower.endsWith(".json") && content.stripLeading().startsWith("[")) {
        return JSON_ARRAY;
      }
      if (lower.endsWith(".jsonl") || lower.endsWith(".json")) {
        return JSON_LINES;
      }
      if (lower.endsWith(".csv")) {
        return CSV;
      }
      if (lower.endsWith(".tsv")) {
        return TSV;
      }
      throw new OnnxSkipException(file + ": unknown data format; expected " + EXPECTED);
    }
  }

  // Texts can be long (whole documents): lift Jackson's default cap on string length; the file
  // size bounds them anyway.
  private static final ObjectMapper JSON =
      JsonMapper.builder(
              JsonFactory.builder()
                  .streamReadConstraints(
                      StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
                  .build())
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .build();

  public LabelledData {
    examples = List.copyOf(examples);
    if (examples.isEmpty()) {
      throw new IllegalArgumentException(file + " has no examples");
    }
    boolean pairs = examples.get(0).isPair();
    if (examples.stream().anyMatch(example -> example.isPair() != pairs)) {
      throw new IllegalArgumentException(file + ": either every example is a text pair or none is");
    }
  }

  /** Reads {@code file} in the format of its extension, taking text, pair and label from {@code columns}. */
  public static LabelledData read(Path file, DataColumns columns) {
    if (Files.isDirectory(file)) {
      throw new OnnxSkipException(file + " is a folder, not a data file; expected one file: " + EXPECTED);
    }
    // The extension is checked first, so that a wrong file is not read whole for nothing.
    Format.of(file, "");
    String content = decodeUtf8(file, readBytes(file));
    if (content.startsWith("\uFEFF")) {
      // A byte order mark (spreadsheet exports) would otherwise stick to the first column name.
      content = content.substring(1);
    }
    Format format = Format.of(file, content);
    if (content.isBlank()) {
      throw new OnnxSkipException(file + " is empty");
    }
    List<Example> examples = switch (format) {
      case JSON_LINES -> readJsonLines(file, content, columns);
      case JSON_ARRAY -> readJsonArray(file, content, columns);
      case CSV, TSV -> readDelimited(file, content, columns, format);
    };
    if (examples.isEmpty()) {
      throw new OnnxSkipException(file + (format == Format.JSON_ARRAY ? " holds an empty array, no examples" : " has no examples, only a header"));
    }
    return new LabelledData(file, format, examples);
  }

  public int size() {
    return examples.size();
  }

  /** Where {@code example} is in the file, for messages: "FILE line N", or "FILE element N" in a JSON array. */
  public String where(Example example) {
    return file + (format == Format.JSON_ARRAY ? " element " : " line ") + example.line();
  }

  /** Whether the examples are text pairs (all of them are, or none is). */
  public boolean hasPairs() {
    return examples.get(0).isPair();
  }

  private static byte[] readBytes(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new OnnxSkipException("data file not found: " + file, e);
    } catch (IOException e) {
      throw new OnnxSkipException("cannot read data file " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Decodes strictly: a replacement character silently changes a text, and the model's prediction
   * with it, so malformed bytes are an error naming their line.
   */
  private static String decodeUtf8(Path file, byte[] bytes) {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    // UTF-8 never decodes to more UTF-16 units than it has bytes.
    CharBuffer out = CharBuffer.allocate(bytes.length);
    CoderResult result = decoder.decode(in, out, true);
    if (!result.isError()) {
      result = decoder.flush(out);
    }
    if (result.isError()) {
      int offset = in.position();
      int line = 1;
      for (int i = 0; i < offset; i++) {
        if (bytes[i] == '\n') {
          line++;
        }
      }
      throw new OnnxSkipException(
          String.format("%s line %d: invalid UTF-8 (byte 0x%02x at offset %d)",
              file, line, bytes[offset] & 0xff, offset));
    }
    return out.flip().toString();
  }

  private static List<Example> readJsonLines(Path file, String content, DataColumns columns) {
    List<Example> examples = new ArrayList<>();
    List<String> lines = content.lines().toList();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      int lineNumber = i + 1;
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (JsonProcessingException e) {
        throw new OnnxSkipException(
            file + " line " + lineNumber + ": invalid JSON: " + jsonProblem(e), e);
      }
      if (!node.isObject()) {
        throw new OnnxSkipException(
            file + " line " + lineNumber + ": expected a JSON object, got " + kind(node));
      }
      examples.add(jsonExample(node, lineNumber, file + " line " + lineNumber, columns));
    }
    return examples;
  }

  private static Example jsonExample(JsonNode object, int line, String where, DataColumns columns) {
    String text = jsonText(object, columns.text(), where);
    String pair = columns.hasPair() ? jsonText(object, columns.textPair(), where) : null;
    String label = jsonLabel(object, columns.label(), where);
    return new Example(line, jsonId(object.get(Example.ID_FIELD), line), text, pair, label);
  }

  /**
   * An id is only a name for the user, so any value serves: integers stay numbers, other scalars
   * become their text and objects or arrays their JSON; an absent or null id falls back to the line.
   */
  private static Example.Id jsonId(JsonNode value, int line) {
    if (value == null || value.isNull()) {
      return Example.Id.of(line);
    }
    if (value.isIntegralNumber() && value.canConvertToLong()) {
      return Example.Id.of(value.asLong());
    }
    return Example.Id.of(value.isValueNode() ? value.asText() : value.toString());
  }

  private static List<Example> readJsonArray(Path file, String content, DataColumns columns) {
    JsonNode array;
    try {
      array = JSON.readTree(content);
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? "" : " line " + e.getLocation().getLineNr();
      throw new OnnxSkipException(file + where + ": invalid JSON: " + jsonProblem(e), e);
    }
    List<Example> examples = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      int element = i + 1;
      String where = file + " element " + element;
      if (!array.get(i).isObject()) {
        throw new OnnxSkipException(where + ": expected a JSON object, got " + kind(array.get(i)));
      }
      examples.add(jsonExample(array.get(i), element, where, columns));
    }
    return examples;
  }

  /**
   * Jackson's message without its source description ("[Source: REDACTED ...; line: 1, column: 9]"),
   * which says nothing here as each line is parsed on its own, plus the column of the problem.
   */
  private static String jsonProblem(JsonProcessingException e) {
    String message =
        e.getOriginalMessage().replaceAll("\\[Source: [^;]*; line: \\d+, (column: \\d+)\\]", "$1");
    return e.getLocation() == null ? message : message + " (column " + e.getLocation().getColumnNr() + ")";
  }

  private static JsonNode jsonField(JsonNode object, String name, String where) {
    JsonNode value = object.get(name);
    if (value == null) {
      List<String> names = new ArrayList<>();
      object.fieldNames().forEachRemaining(names::add);
      throw new OnnxSkipException(
          where + ": no field '" + name + "' (fields: " + String.join(", ", names) + ")");
    }
    if (value.isNull()) {
      throw new OnnxSkipException(where + ": field '" + name + "' is null");
    }
    return value;
  }

  private static String jsonText(JsonNode object, String name, String where) {
    JsonNode value = jsonField(object, name, where);
    if (!value.isValueNode()) {
      throw new OnnxSkipException(
          where + ": field '" + name + "' is " + kind(value) + ", expected a string");
    }
    return nonBlankText(value.asText(), name, where);
  }

  private static String jsonLabel(JsonNode object, String name, String where) {
    JsonNode value = jsonField(object, name, where);
    if (value.isTextual() || value.isIntegralNumber() || value.isBoolean()) {
      return nonEmptyLabel(value.asText(), name, where);
    }
    throw new OnnxSkipException(
        where + ": label field '" + name + "' is " + kind(value)
            + " " + value + ", expected a string or an integer");
  }

  private static String kind(JsonNode node) {
    return switch (node.getNodeType()) {
      case ARRAY -> "an array";
      case OBJECT -> "an object";
      case NUMBER -> "a number";
      case STRING -> "a string";
      case BOOLEAN -> "a boolean";
      default -> node.getNodeType().name().toLowerCase(Locale.ROOT);
    };
  }

  private static List<Example> readDelimited(
      Path file, String content, DataColumns columns, Format format) {
    // A duplicate column name would make the choice of column ambiguous.
    CSVFormat.Builder builder =
        CSVFormat.DEFAULT
            .builder()
            .setHeader()
            .setSkipHeaderRecord(true)
            .setDuplicateHeaderMode(DuplicateHeaderMode.DISALLOW);
    if (format == Format.TSV) {
      // GLUE TSVs hold unbalanced double quotes inside texts: a quote is just a character there.
      builder.setDelimiter('\t').setQuote(null);
    }
    CSVParser parser;
    try {
      parser = builder.get().parse(new StringReader(content));
    } catch (IllegalArgumentException e) {
      // commons-csv rejects a header with a missing or duplicate name this way.
      throw new OnnxSkipException(file + " line 1: bad header: " + e.getMessage(), e);
    } catch (IOException | UncheckedIOException e) {
      throw new OnnxSkipException(file + ": cannot parse " + format + ": " + rootMessage(e), e);
    }
    LineIndex lines = new LineIndex(content);
    List<Example> examples = new ArrayList<>();
    try (parser) {
      List<String> header = parser.getHeaderNames();
      int textColumn = column(file, header, columns.text());
      int pairColumn = columns.hasPair() ? column(file, header, columns.textPair()) : -1;
      int labelColumn = column(file, header, columns.label());
      int idColumn = header.indexOf(Example.ID_FIELD);
      for (CSVRecord record : parser) {
        int line = lines.lineOfRecordAt(record.getCharacterPosition());
        String where = file + " line " + line;
        if (record.size() != header.size()) {
          throw new OnnxSkipException(
              where + ": expected " + header.size() + " fields as in the header, got " + record.size());
        }
        String text = nonBlankText(record.get(textColumn), columns.text(), where);
        String pair = pairColumn < 0 ? null : nonBlankText(record.get(pairColumn), columns.textPair(), where);
        String label = nonEmptyLabel(record.get(labelColumn), columns.label(), where);
        // An empty id cell is a missing id, named by its line like an example without one.
        String id = idColumn < 0 ? "" : record.get(idColumn);
        examples.add(new Example(line, id.isEmpty() ? Example.Id.of(line) : Example.Id.of(id), text, pair, label));
      }
    } catch (IOException | UncheckedIOException e) {
      throw new OnnxSkipException(file + ": cannot parse " + format + ": " + rootMessage(e), e);
    }
    return examples;
  }

  /** commons-csv wraps its parse errors, which name the line, in an UncheckedIOException. */
  private static String rootMessage(Exception e) {
    Throwable cause = e;
    while (cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause.getMessage();
  }

  private static int column(Path file, List<String> header, String name) {
    int index = header.indexOf(name);
    if (index < 0) {
      throw new OnnxSkipException(
          file + " line 1: no column '" + name + "' in the header (columns: "
              + String.join(", ", header) + ")");
    }
    return index;
  }

  private static String nonBlankText(String text, String column, String where) {
    if (text.isBlank()) {
      throw new OnnxSkipException(where + ": empty text in '" + column + "'");
    }
    return text;
  }

  private static String nonEmptyLabel(String label, String column, String where) {
    if (label.isEmpty()) {
      throw new OnnxSkipException(where + ": empty label in '" + column + "'");
    }
    return label;
  }

  /** Maps a character offset to its 1-based line; a line ends at \n, \r\n or a lone \r, as in commons-csv. */
  private static final class LineIndex {
    private final String content;
    private final int[] starts;

    LineIndex(String content) {
      this.content = content;
      int[] found = new int[16];
      int count = 0;
      found[count++] = 0;
      for (int i = 0; i < content.length(); i++) {
        char c = content.charAt(i);
        if (c == '\n' || (c == '\r' && (i + 1 == content.length() || content.charAt(i + 1) != '\n'))) {
          if (count == found.length) {
            found = Arrays.copyOf(found, count * 2);
          }
          found[count++] = i + 1;
        }
      }
      starts = Arrays.copyOf(found, count);
    }

    /**
     * The line of a record that commons-csv says starts at {@code offset}: that offset is where the
     * parser began reading, before it skipped the empty lines in front of the record.
     */
    int lineOfRecordAt(long offset) {
      int start = (int) offset;
      while (start < content.length() && (content.charAt(start) == '\n' || content.charAt(start) == '\r')) {
        start++;
      }
      int index = Arrays.binarySearch(starts, start);
      return index >= 0 ? index + 1 : -index - 1;
    }
  }
}
