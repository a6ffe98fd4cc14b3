package dev.onnxskip.cli;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.ToolVersion;
import dev.onnxskip.UsageException;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Entry point: the picocli commands, which compose option groups; the work happens in the packages below cli. */
@Command(
    name = "onnx-skip",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Skip spans of transformer encoder layers in ONNX models and measure per-label accuracy.",
    subcommands = {InspectCommand.class, RewriteCommand.class, ValidateCommand.class, EvalCommand.class, ProbeCommand.class, CompareCommand.class, SelectCommand.class,
      CommandLine.HelpCommand.class})
public final class Main {

  /** Exit code of a failure: bad input, unusable model, runtime error. */
  public static final int EXIT_FAILURE = 1;
  /** Exit code of a usage error: unknown option, malformed argument. */
  public static final int EXIT_USAGE = 2;

  @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces of errors.")
  boolean verbose;

  /** Nanoseconds from the JVM's start to {@link #main}, where this process began there; unknown to tests. */
  private static volatile Long startupNanos;

  public static void main(String[] args) {
    ProcessHandle.current().info().startInstant()
        .ifPresent(start -> startupNanos = Duration.between(start, Instant.now()).toNanos());
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** How long the JVM took to reach {@link #main}, for the run's time by phase: empty where main did not start this process. */
  public static Optional<Long> startupNanos() {
    return Optional.ofNullable(startupNanos);
  }

  /** Runs the tool as the command line would, returning the exit code; used by tests. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    return run(args, out, err, cli -> {});
  }

  /**
   * Runs the tool with its commands first adjusted by {@code adjust}: how another entry point adds
   * options to a command, or changes where it runs, while keeping its parser and its errors.
   */
  public static int run(String[] args, PrintWriter out, PrintWriter err, java.util.function.Consumer<CommandLine> adjust) {
    System.setProperty("ai.djl.offline", "true");
    // The tokenizer library logs through slf4j; its notes (e.g. no GPU found) are noise here.
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", java.util.Arrays.asList(args).contains("--verbose") ? "info" : "error");
    }
    Main main = new Main();
    CommandLine cli = new CommandLine(main);
    cli.setOut(out);
    cli.setErr(err);
    cli.setExitCodeExceptionMapper(ex -> ex instanceof CommandLine.ParameterException ? EXIT_USAGE : EXIT_FAILURE);
    // One line, as for every other bad input, with the pointer to --help on it.
    cli.setParameterExceptionHandler((ex, a) -> {
      CommandLine at = ex.getCommandLine();
      String message = at == cli && a.length == 0
          ? "no command given; one of " + String.join(", ", commandNames(cli))
          : folded(ex.getMessage());
      err.println("onnx-skip: " + message + " (try '" + at.getCommandSpec().qualifiedName() + " --help')");
      return EXIT_USAGE;
    });
    cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      boolean verbose = parseResult.hasMatchedOption("--verbose") || main.verbose;
      if (ex instanceof UsageException) {
        err.println("onnx-skip: " + ex.getMessage());
        return EXIT_USAGE;
      }
      if (verbose) {
        ex.printStackTrace(err);
      }
      err.println("onnx-skip: " + oneLine(ex));
      return EXIT_FAILURE;
    });
    adjust.accept(cli);
    return cli.execute(args);
  }

  /** The tool's commands, as --help lists them, without the help command itself. */
  private static List<String> commandNames(CommandLine cli) {
    return cli.getSubcommands().keySet().stream().filter(name -> !name.equals("help")).toList();
  }

  /** The message of a failure, folded onto one line; unexpected exceptions also name their type. */
  static String oneLine(Throwable ex) {
    String message = ex.getMessage();
    if (!(ex instanceof OnnxSkipException) || message == null) {
      message = ex.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }
    return folded(message);
  }

  private static String folded(String message) {
    return message.replaceAll("\\s*\\R\\s*", " ").strip();
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"onnx-skip " + ToolVersion.get()};
    }
  }
}
