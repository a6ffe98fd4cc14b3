package dev.onnxskip.cli;

import dev.onnxskip.eval.EvalRun;
import dev.onnxskip.report.RunReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Supplier;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * What eval tells the user on stderr while it runs: a progress bar on a terminal, a few plain lines
 * elsewhere (a log, CI), nothing with --quiet but warnings; what a resume takes from the journal;
 * and, on Ctrl-C, what finished and how to continue. When --force starts over, it also removes what
 * the earlier run wrote.
 */
final class Progress implements EvalRun.Listener, AutoCloseable {

  /** How progress is shown. */
  enum Mode {
    BAR,
    LINES,
    SILENT
  }

  /** Plain progress lines come no more often than this. */
  private static final long LINE_INTERVAL_NANOS = 10_000_000_000L;

  private final Mode mode;
  private final PrintWriter err;
  private final Path out;
  private ProgressBar bar;
  private EvalRun.Work work;
  private long examplesDone;
  private int variantsDone;
  private long startedAt;
  private long lastLineAt;

  Progress(Mode mode, PrintWriter err, Path out) {
    this.mode = mode;
    this.err = err;
    this.out = out;
  }

  /**
   * Runs {@code run}, saying on Ctrl-C (or any other ending of the process) what had finished: the
   * journal keeps every finished batch, so the same command with --resume loses nothing of it.
   */
  <T> T whileRunning(Supplier<T> run) {
    Thread onInterrupt = new Thread(this::interrupted, "onnx-skip interrupted");
    Runtime.getRuntime().addShutdownHook(onInterrupt);
    T result;
    try {
      result = run.get();
    } catch (RuntimeException | Error failure) {
      if (!release(onInterrupt)) {
        // The process is being ended, and ONNX Runtime torn down under the run: the failure is a
        // consequence of the ending, not news. The hook says what finished; the JVM halts after it.
        awaitHalt();
      }
      throw failure;
    }
    release(onInterrupt);
    return result;
  }

  /** Removes the hook; false when the process is shutting down and the hook already runs. */
  private static boolean release(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
      return true;
    } catch (IllegalStateException shuttingDown) {
      return false;
    }
  }

  private static void awaitHalt() {
    while (true) {
      try {
        Thread.sleep(Long.MAX_VALUE);
      } catch (InterruptedException e) {
        // Still shutting down: keep waiting for the halt.
      }
    }
  }

  private synchronized void interrupted() {
    if (work == null) {
      err.println("onnx-skip: interrupted before evaluation began; nothing was evaluated");
    } else {
      err.println("onnx-skip: interrupted: " + variantsDone + " of " + work.variants() + " variants finished; finished work is"
          + " journaled in " + out + ", and the same command with --resume continues it");
    }
    err.flush();
  }

  @Override
  public void startingOver() {
    RunReport.removeEarlier(out);
  }

  @Override
  public void warning(String message) {
    Warnings.print(err, message);
  }

  @Override
  public synchronized void start(String runtimeNote, EvalRun.Work work) {
    this.work = work;
    this.variantsDone = work.variantsFromJournal();
    this.startedAt = System.nanoTime();
    this.lastLineAt = startedAt;
    if (mode == Mode.SILENT) {
      return;
    }
    if (work.resumed()) {
      int rest = work.variants() - work.variantsFromJournal();
      err.println("resuming " + out + ": " + work.variantsFromJournal() + " of " + work.variants() + " variants were finished"
          + (work.examplesFromJournal() > 0 ? String.format(Locale.ROOT, ", and %,d examples of the other %d", work.examplesFromJournal(),
              rest) : ""));
    }
    int left = work.variants() - work.variantsFromJournal();
    err.println("running on " + runtimeNote + ": " + left + " variant" + (left == 1 ? "" : "s") + " to evaluate");
    err.flush();
    if (mode == Mode.BAR) {
      bar = new ProgressBarBuilder()
          .setTaskName("eval")
          .setInitialMax(work.examplesLeft())
          .setUnit(" ex", 1)
          .showSpeed()
          .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
          .setConsumer(new ConsoleProgressBarConsumer(System.err))
          .build();
    }
  }

  @Override
  public synchronized void examples(int count) {
    examplesDone += count;
    if (bar != null) {
      bar.stepBy(count);
    } else if (mode == Mode.LINES && System.nanoTime() - lastLineAt >= LINE_INTERVAL_NANOS) {
      lastLineAt = System.nanoTime();
      line();
    }
  }

  @Override
  public synchronized void variantsDone(int done, int total) {
    variantsDone = done;
    if (bar != null) {
      bar.setExtraMessage(done + "/" + total + " variants");
    }
  }

  /** One plain progress line: examples done of those left, the rate, and the variants finished. */
  private void line() {
    double seconds = Math.max((System.nanoTime() - startedAt) / 1e9, 1e-9);
    err.println(String.format(Locale.ROOT, "eval: %,d of %,d examples (%,.0f ex/s), %d of %d variants done", examplesDone,
        work.examplesLeft(), examplesDone / seconds, variantsDone, work.variants()));
    err.flush();
  }

  @Override
  public synchronized void close() {
    if (bar != null) {
      bar.close();
    } else if (mode == Mode.LINES && work != null && work.examplesLeft() > 0) {
      line();
    }
  }
}
