package dev.onnxskip.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.rewrite.Validator;
import dev.onnxskip.rewrite.VariantWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code onnx-skip validate}: the reference ONNX checker and strict shape inference on model files. */
@Command(
    name = "validate",
    mixinStandardHelpOptions = true,
    description = "Check models against the ONNX specification with the reference ONNX checker (full check) and"
        + " strict shape inference with data propagation. A folder with a manifest.json from rewrite validates every"
        + " variant it lists. Operators outside the ONNX domains (com.microsoft, ...) have no ONNX schema and are"
        + " checked for structure only; the output says so.")
public final class ValidateCommand implements Callable<Integer> {

  @Parameters(paramLabel = "MODEL", arity = "1..*", description = "ONNX model files, or folders written by rewrite.")
  List<Path> models;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  /**
   * Checks every file, even after one fails, so that one run tells the whole story: each valid file
   * gets its line on stdout, each failure its one line on stderr, and the exit code is 1 if any failed.
   */
  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    int checked = 0; // files, and folders whose manifest could not be read
    int failed = 0;
    for (Path p : models) {
      List<Path> files;
      try {
        files = Files.isDirectory(p) ? manifestFiles(p) : List.of(p);
      } catch (OnnxSkipException e) {
        checked++;
        failed++;
        report(e, err);
        err.flush();
        continue;
      }
      for (Path f : files) {
        checked++;
        try {
          out.println(Validator.validate(f).describe());
        } catch (OnnxSkipException e) {
          failed++;
          report(e, err);
        }
        out.flush();
        err.flush();
      }
    }
    if (failed > 0 && checked > 1) {
      err.println("onnx-skip: " + failed + " of " + checked + " failed validation");
    }
    return failed == 0 ? 0 : Main.EXIT_FAILURE;
  }

  /** One failure's line, after its stack trace with --verbose, as the tool reports any error. */
  private void report(OnnxSkipException e, PrintWriter err) {
    if (spec.root().userObject() instanceof Main main && main.verbose) {
      e.printStackTrace(err);
    }
    err.println("onnx-skip: " + Main.oneLine(e));
  }

  /** The variant files a rewrite manifest lists, resolved against its folder. */
  static List<Path> manifestFiles(Path dir) {
    Path manifest = dir.resolve(VariantWriter.MANIFEST);
    if (!Files.isRegularFile(manifest)) {
      throw new OnnxSkipException(dir + ": is a folder without a " + VariantWriter.MANIFEST + "; name model files instead");
    }
    JsonNode variants;
    try {
      variants = new ObjectMapper().readTree(manifest.toFile()).path("variants");
    } catch (IOException e) {
      throw new OnnxSkipException(manifest + ": not a readable manifest: " + e.getMessage().lines().findFirst().orElse(""), e);
    }
    List<Path> files = new ArrayList<>();
    for (JsonNode v : variants) {
      if (!v.path("file").isTextual()) {
        throw new OnnxSkipException(manifest + ": variant entry " + v + " has no file");
      }
      files.add(dir.resolve(v.get("file").asText()));
    }
    if (files.isEmpty()) {
      throw new OnnxSkipException(manifest + ": lists no variants");
    }
    return files;
  }
}
