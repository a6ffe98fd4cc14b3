package dev.onnxskip.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.OnnxSkipException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LabelledDataTest {

  @TempDir Path dir;

  private Path write(String name, String content) throws IOException {
    return Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
  }

  private String failure(Path file, DataColumns columns) {
    return assertThrows(OnnxSkipException.class, () -> LabelledData.read(file, columns)).getMessage();
  }

  private static void assertOneLine(String message) {
    assertFalse(message.contains("\n") || message.contains("\r"), "not one line: " + message);
  }

  @Test
  void readsJsonLinesWithStringAndIntegerLabelsInFileOrder() throws IOException {
    Path file = write("dev.jsonl", """
        {"text": "a fine film", "label": "pos"}

        {"text": "dull", "label": 0, "extra": [1, 2]}
        {"label": 1, "text": "quote \\" and\\ttab"}
        """);
    LabelledData data = LabelledData.read(file, DataColumns.DEFAULT);

    assertEquals(LabelledData.Format.JSON_LINES, data.format());
    assertEquals(
        List.of(
            new Example(1, "a fine film", null, "pos"),
            new Example(3, "dull", null, "0"),
            new Example(4, "quote \" and\ttab", null, "1")),
        data.examples());
    assertFalse(data.hasPairs());
    assertThrows(UnsupportedOperationException.class, () -> data.examples().add(data.examples().get(0)));
  }

  /** A TSV's id column is text like every cell; a row with an empty id is named by its line. */
  @Test
  void readsTheIdColumnOfATsvAsText() throws IOException {
    Path file = write("dev.tsv", "sentence\tid\tlabel\nfirst\t007\tpos\nsecond\t\tneg\n");
    LabelledData data = LabelledData.read(file, new DataColumns("sentence", null, "label"));
    assertEquals(
        List.of(new Example(2, Example.Id.of("007"), "first", null, "pos"), new Example(3, Example.Id.of(3), "second", null, "neg")),
        data.examples());
  }

  /** A .json file holding one array, as data sets are often shipped; an example's line is its element number. */
  @Test
  void readsAJsonArrayOfObjectsNumberingTheElements() throws IOException {
    Path file = write("reviews.json", """
          [{"text": "a fine film", "label": "pos"},
           {"text": "dull", "label": 0},
        {"label": 1, "text": "third"}]
        """);
    LabelledData data = LabelledData.read(file, DataColumns.DEFAULT);

    assertEquals(LabelledData.Format.JSON_ARRAY, data.format());
    assertEquals(List.of(new Example(1, "a fine film", null, "pos"), new Example(2, "dull", null, "0"),
        new Example(3, "third", null, "1")), data.examples());
    assertEquals(file + " element 2", data.where(data.examples().get(1)));
  }

  @Test
  void aBadJsonArrayElementIsNamedByItsNumber() throws IOException {
    Path missing = write("missing.json", "[{\"text\": \"a\", \"label\": 0}, {\"text\": \"b\"}]");
    assertEquals(missing + " element 2: no field 'label' (fields: text)", failure(missing, DataColumns.DEFAULT));
    Path notObject = write("strings.json", "[{\"text\": \"a\", \"label\": 0}, {\"text\": \"b\", \"label\": 1}, \"c\"]");
    assertEquals(notObject + " element 3: expected a JSON object, got a string", failure(notObject, DataColumns.DEFAULT));
    Path empty = write("empty.json", " [ ]\n");
    assertEquals(empty + " holds an empty array, no examples", failure(empty, DataColumns.DEFAULT));
    Path broken = write("broken.json", "[\n{\"text\": \"a\", \"label\": 0},\n{\"text\": \"b\" \"label\": 1}\n]\n");
    String message = failure(broken, DataColumns.DEFAULT);
    assertTrue(message.startsWith(broken + " line 3: invalid JSON: "), message);
    assertOneLine(message);
  }

  @Test
  void readsPairsAndCustomColumns() throws IOException {
    Path file = write("pairs.json", """
        {"premise": "A man sleeps.", "hypothesis": "Nobody sleeps.", "gold": "contradiction"}
        {"premise": "A dog runs.", "hypothesis": "An animal moves.", "gold": true}
        """);
    LabelledData data = LabelledData.read(file, new DataColumns("premise", "hypothesis", "gold"));

    assertTrue(data.hasPairs());
    assertEquals(new Example(1, "A man sleeps.", "Nobody sleeps.", "contradiction"), data.examples().get(0));
    assertEquals(new Example(2, "A dog runs.", "An animal moves.", "true"), data.examples().get(1));
  }

  @Test
  void readsCsvWithQuotedCommasAndMultiLineFieldsKeepingStartLines() throws IOException {
    Path file = write("dev.csv", "\uFEFFtext,label\r\n"
        + "\"one, with a comma\",pos\r\n"
        + "\"two\nlines\",neg\r\n"
        + "\r\n"
        + "three,\"1\"\r\n");
    LabelledData data = LabelledData.read(file, DataColumns.DEFAULT);

    assertEquals(LabelledData.Format.CSV, data.format());
    assertEquals(
        List.of(
            new Example(2, "one, with a comma", null, "pos"),
            new Example(3, "two\nlines", null, "neg"),
            new Example(6, "three", null, "1")),
        data.examples());
  }

  @Test
  void readsGlueStyleTsvWithUnbalancedQuotesVerbatim() throws IOException {
    Path file = write("dev.TSV", """
        sentence\tlabel
        it 's a "charming and often affecting journey .\t1
        "unflinchingly bleak\t0
        ""quoted"" stays , as is \t1
        """);
    LabelledData data = LabelledData.read(file, new DataColumns("sentence", null, "label"));

    assertEquals(LabelledData.Format.TSV, data.format());
    assertEquals(
        List.of(
            new Example(2, "it 's a \"charming and often affecting journey .", null, "1"),
            new Example(3, "\"unflinchingly bleak", null, "0"),
            new Example(4, "\"\"quoted\"\" stays , as is ", null, "1")),
        data.examples());
  }

  @Test
  void acceptsAHugeText() throws IOException {
    String huge = "word ".repeat(400_000);
    Path file = write("huge.jsonl", "{\"text\": \"" + huge + "\", \"label\": 1}\n");
    assertEquals(huge, LabelledData.read(file, DataColumns.DEFAULT).examples().get(0).text());
  }

  @Test
  void missingFileIsNamed() {
    Path file = dir.resolve("absent.jsonl");
    String message = failure(file, DataColumns.DEFAULT);
    assertEquals("data file not found: " + file, message);
  }

  @Test
  void unknownExtensionIsRejected() throws IOException {
    Path file = write("dev.txt", "text\tlabel\n");
    String message = failure(file, DataColumns.DEFAULT);
    assertTrue(message.startsWith(file + ": unknown data format"), message);
  }

  @Test
  void emptyFilesAndHeaderOnlyFilesHaveNoExamples() throws IOException {
    Path empty = write("empty.jsonl", "\n  \n");
    assertEquals(empty + " is empty", failure(empty, DataColumns.DEFAULT));
    Path headerOnly = write("header.tsv", "text\tlabel\n");
    assertEquals(headerOnly + " has no examples, only a header", failure(headerOnly, DataColumns.DEFAULT));
  }

  @Test
  void missingColumnNamesTheColumnAndTheColumnsThatExist() throws IOException {
    Path tsv = write("dev.tsv", "sentence\tlabel\nfine\t1\n");
    assertEquals(
        tsv + " line 1: no column 'text' in the header (columns: sentence, label)",
        failure(tsv, DataColumns.DEFAULT));

    Path jsonl = write("dev.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"sentence\": \"b\", \"label\": 0}\n");
    assertEquals(
        jsonl + " line 2: no field 'text' (fields: sentence, label)", failure(jsonl, DataColumns.DEFAULT));

    Path pair = write("pair.csv", "text,label\na,1\n");
    assertEquals(
        pair + " line 1: no column 'hypothesis' in the header (columns: text, label)",
        failure(pair, new DataColumns("text", "hypothesis", "label")));
  }

  @Test
  void invalidJsonNamesTheLine() throws IOException {
    Path file = write("dev.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 0\n");
    String message = failure(file, DataColumns.DEFAULT);
    assertTrue(message.startsWith(file + " line 2: invalid JSON: "), message);
    assertOneLine(message);

    Path trailing = write("trailing.jsonl", "{\"text\": \"a\", \"label\": 1} {\"text\": \"b\"}\n");
    assertTrue(failure(trailing, DataColumns.DEFAULT).startsWith(trailing + " line 1: invalid JSON: "));

    Path duplicate = write("duplicate.jsonl", "{\"text\": \"a\", \"label\": 1, \"label\": 0}\n");
    assertTrue(failure(duplicate, DataColumns.DEFAULT).startsWith(duplicate + " line 1: invalid JSON: "));
  }

  @Test
  void jsonValuesOfTheWrongKindAreNamed() throws IOException {
    Path array = write("array.jsonl", "[{\"text\": \"a\", \"label\": 1}]\n");
    assertEquals(array + " line 1: expected a JSON object, got an array", failure(array, DataColumns.DEFAULT));

    Path nullText = write("null.jsonl", "{\"text\": null, \"label\": 1}\n");
    assertEquals(nullText + " line 1: field 'text' is null", failure(nullText, DataColumns.DEFAULT));

    Path objectText = write("object.jsonl", "{\"text\": {\"a\": 1}, \"label\": 1}\n");
    assertEquals(
        objectText + " line 1: field 'text' is an object, expected a string",
        failure(objectText, DataColumns.DEFAULT));

    Path fractional = write("fraction.jsonl", "{\"text\": \"a\", \"label\": 1.5}\n");
    assertEquals(
        fractional + " line 1: label field 'label' is a number 1.5, expected a string or an integer",
        failure(fractional, DataColumns.DEFAULT));
  }

  @Test
  void wrongFieldCountNamesLineExpectedAndGot() throws IOException {
    Path file = write("dev.tsv", "sentence\tlabel\nfine\t1\ntoo\tmany\t0\n");
    assertEquals(
        file + " line 3: expected 2 fields as in the header, got 3",
        failure(file, new DataColumns("sentence", null, "label")));

    Path csv = write("dev.csv", "text,label\n\"a, b\",1\n\"multi\nline\",0\nshort\n");
    assertEquals(csv + " line 5: expected 2 fields as in the header, got 1", failure(csv, DataColumns.DEFAULT));
  }

  @Test
  void malformedCsvQuotingIsOneLineNamingTheFile() throws IOException {
    Path csv = write("bad.csv", "text,label\n\"open quote,1\n");
    String message = failure(csv, DataColumns.DEFAULT);
    assertTrue(message.startsWith(csv + ": cannot parse CSV: "), message);
    assertOneLine(message);
  }

  @Test
  void duplicateHeaderIsABadHeader() throws IOException {
    Path csv = write("dup.csv", "text,label,text\na,1,b\n");
    String message = failure(csv, DataColumns.DEFAULT);
    assertTrue(message.startsWith(csv + " line 1: bad header: "), message);
  }

  @Test
  void invalidUtf8NamesTheLine() throws IOException {
    byte[] good = "text\tlabel\nfine\t1\n".getBytes(StandardCharsets.UTF_8);
    byte[] bad = {'b', 'a', (byte) 0xC3, '(', '\t', '0', '\n'};
    byte[] bytes = new byte[good.length + bad.length];
    System.arraycopy(good, 0, bytes, 0, good.length);
    System.arraycopy(bad, 0, bytes, good.length, bad.length);
    Path file = Files.write(dir.resolve("latin1.tsv"), bytes);

    assertEquals(
        file + " line 3: invalid UTF-8 (byte 0xc3 at offset " + (good.length + 2) + ")",
        failure(file, DataColumns.DEFAULT));
  }

  @Test
  void truncatedUtf8AtEndOfFileIsInvalid() throws IOException {
    byte[] head = "{\"text\": \"a\", \"label\": 1}\n".getBytes(StandardCharsets.UTF_8);
    byte[] bytes = new byte[head.length + 1];
    System.arraycopy(head, 0, bytes, 0, head.length);
    bytes[head.length] = (byte) 0xE2; // first byte of a three-byte sequence, then end of file
    Path file = Files.write(dir.resolve("cut.jsonl"), bytes);
    assertTrue(failure(file, DataColumns.DEFAULT).startsWith(file + " line 2: invalid UTF-8"));
  }

  @Test
  void emptyTextsAndLabelsNameTheLine() throws IOException {
    Path tsv = write("dev.tsv", "text\tlabel\nfine\t1\n  \t0\n");
    assertEquals(tsv + " line 3: empty text in 'text'", failure(tsv, DataColumns.DEFAULT));

    Path jsonl = write("dev.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"\", \"label\": 1}\n");
    assertEquals(jsonl + " line 2: empty text in 'text'", failure(jsonl, DataColumns.DEFAULT));

    Path pair = write("pair.csv", "a,b,label\nx,,1\n");
    assertEquals(pair + " line 2: empty text in 'b'", failure(pair, new DataColumns("a", "b", "label")));

    Path label = write("label.csv", "text,label\nx,\n");
    assertEquals(label + " line 2: empty label in 'label'", failure(label, DataColumns.DEFAULT));
  }

  @Test
  void directoryIsNotADataFile() throws IOException {
    Path sub = Files.createDirectory(dir.resolve("data.jsonl"));
    assertEquals(sub + " is a folder, not a data file; expected one file: .jsonl (JSON Lines), .json (an array of objects, or JSON Lines),"
        + " .csv or .tsv (with a header)", failure(sub, DataColumns.DEFAULT));
    Path noExtension = Files.createDirectory(dir.resolve("splits"));
    assertTrue(failure(noExtension, DataColumns.DEFAULT).startsWith(noExtension + " is a folder, not a data file; expected one file: "));
  }
}
