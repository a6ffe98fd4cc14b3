package dev.onnxskip.eval;

import dev.onnxskip.data.EncodedDataset;
import dev.onnxskip.data.LabelledData;
import dev.onnxskip.data.TextEncoder;
import dev.onnxskip.graph.Digests;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * What a run reads besides the model, read on threads of their own while the model is parsed and
 * its layers found: the data, its tokens and the digests of the input files. Each takes from a
 * fraction of a second to a few seconds at start-up (the tokenizer's native library, a model file
 * of hundreds of megabytes to hash), and none needs the model until it is checked against it.
 *
 * <p>Each result is handed over where the run used to compute it, so a failure surfaces at the same
 * step, with the same message, as when everything ran in turn: a bad model is still reported before
 * bad data, and bad data before a bad tokenizer.
 */
final class BackgroundInputs implements AutoCloseable {

  /** The data's tokens, and the encoder that made them, still open for the checks against the model. */
  record Tokens(TextEncoder encoder, EncodedDataset encoded) {}

  /** Digests of the files named on the command line, by role. */
  record FileDigests(String model, String data, String tokenizer) {}

  private final ExecutorService threads;
  private final CompletableFuture<LabelledData> data;
  private final CompletableFuture<Tokens> tokens;
  private final CompletableFuture<FileDigests> digests;
  private boolean tokensTaken;

  private BackgroundInputs(EvalConfig cfg) {
    // Two threads: the data then its tokens on one, the digests on the other.
    threads = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "onnx-skip inputs");
      t.setDaemon(true);
      return t;
    });
    data = CompletableFuture.supplyAsync(() -> LabelledData.read(cfg.inputs().data(), cfg.inputs().columns()), threads);
    tokens = data.thenApplyAsync(read -> {
      TextEncoder encoder = TextEncoder.open(cfg.inputs().tokenizer(), cfg.batching().maxLength());
      try {
        return new Tokens(encoder, encoder.encode(read));
      } catch (RuntimeException | Error e) {
        encoder.close();
        throw e;
      }
    }, threads);
    digests = CompletableFuture.supplyAsync(() -> new FileDigests(Digests.sha256(cfg.inputs().model()), Digests.sha256(cfg.inputs().data()),
        Digests.sha256(cfg.inputs().tokenizer())), threads);
  }

  /** Starts reading the inputs of {@code cfg}; the caller closes the result when the run has what it needs. */
  static BackgroundInputs start(EvalConfig cfg) {
    return new BackgroundInputs(cfg);
  }

  LabelledData data() {
    return await(data);
  }

  /** The tokens; the caller closes their encoder. */
  Tokens tokens() {
    Tokens t = await(tokens);
    tokensTaken = true;
    return t;
  }

  FileDigests digests() {
    return await(digests);
  }

  /** The result, or the exception its computation threw, as it threw it. */
  private static <T> T await(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (CompletionException | CancellationException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(cause);
    }
  }

  /**
   * Lets what still runs finish on its daemon threads without starting more (the run failed before it
   * needed it), and closes the encoder where nobody took the tokens.
   */
  @Override
  public void close() {
    threads.shutdown();
    if (!tokensTaken) {
      tokens.thenAccept(t -> t.encoder().close());
    }
  }
}
