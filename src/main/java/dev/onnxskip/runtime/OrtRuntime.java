package dev.onnxskip.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.OnnxSkipException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * ONNX Runtime sessions on the device the user chose. CUDA needs the {@code -Pgpu} build (the
 * {@code onnxruntime_gpu} artifact) and the CUDA 12 and cuDNN 9 libraries; when it cannot load,
 * the error names what is missing instead of ORT's generic provider failure.
 *
 * @param device the device sessions actually run on (never {@code auto})
 * @param note how the device was chosen, for the user, e.g. "auto: CUDA unavailable (...), using cpu"
 * @param fallback why {@code auto} fell back to the CPU, when it did: news the user should get as it
 *     happens, not only in the final report
 */
public record OrtRuntime(Device device, int threads, String note, Optional<String> fallback) {

  /** Libraries the CUDA provider of ONNX Runtime 1.29 loads, in the order it needs them. */
  static final List<String> CUDA_LIBRARIES =
      List.of("libcudart.so.12", "libcublasLt.so.12", "libcublas.so.12", "libcurand.so.10", "libcufft.so.11", "libcudnn.so.9");

  public static String ortVersion() {
    return OrtEnvironment.getEnvironment().getVersion();
  }

  /**
   * Resolves the device: {@code auto} becomes CUDA if a probe session can use it, else CPU.
   *
   * @param threads intra-op threads, 0 for ONNX Runtime's default
   * @throws OnnxSkipException when CUDA is asked for and cannot load
   */
  public static OrtRuntime open(Device requested, int threads) {
    return switch (requested.kind()) {
      case CPU -> new OrtRuntime(Device.CPU, threads, "cpu", Optional.empty());
      case CUDA -> {
        Optional<String> problem = cudaProblem(requested.cudaDevice());
        if (problem.isPresent()) {
          throw new OnnxSkipException("--device " + requested + ": " + problem.get());
        }
        yield new OrtRuntime(requested, threads, requested.toString(), Optional.empty());
      }
      case AUTO -> {
        Device cuda = new Device(Device.Kind.CUDA, 0);
        Optional<String> problem = cudaProblem(0);
        yield problem.isEmpty()
            ? new OrtRuntime(cuda, threads, "auto: using cuda:0", Optional.empty())
            : new OrtRuntime(Device.CPU, threads, "auto: CUDA unavailable (" + problem.get() + "), using cpu",
                Optional.of("--device auto: CUDA is unavailable (" + problem.get() + "); running on the CPU"));
      }
    };
  }

  /** Session options for this runtime; the caller closes them. */
  public OrtSession.SessionOptions sessionOptions() throws OrtException {
    OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
    try {
      opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      // ONNX Runtime would also log a failure to stderr itself, in lines of its own; the exception
      // carries the same message, which the command line prints as its one line.
      opts.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
      if (threads > 0) {
        opts.setIntraOpNumThreads(threads);
      }
      if (device.kind() == Device.Kind.CUDA) {
        opts.addCUDA(device.cudaDevice());
      }
      return opts;
    } catch (OrtException | RuntimeException e) {
      opts.close();
      throw e;
    }
  }

  /** Why CUDA cannot be used, or empty when a session with the CUDA provider can be made. */
  static Optional<String> cudaProblem(int deviceId) {
    if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
      return Optional.of("this build of onnx-skip has no CUDA support; build it with 'mvn -Pgpu package' (or 'make build-gpu')");
    }
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.addCUDA(deviceId);
      return Optional.empty();
    } catch (OrtException e) {
      List<String> missing = missingLibraries();
      String cause = missing.isEmpty()
          ? "the CUDA provider failed to load: " + OrtErrors.oneLine(e.getMessage())
          : "the CUDA provider cannot load: missing " + String.join(", ", missing)
              + " (ONNX Runtime 1.29 needs CUDA 12 and cuDNN 9 on the library path)";
      return Optional.of(cause);
    }
  }

  /** The CUDA libraries not found on the dynamic loader's search path. */
  static List<String> missingLibraries() {
    List<Path> dirs = new ArrayList<>();
    String ld = System.getenv("LD_LIBRARY_PATH");
    if (ld != null) {
      for (String d : ld.split(":")) {
        if (!d.isBlank()) {
          dirs.add(Path.of(d));
        }
      }
    }
    for (String d : List.of("/usr/local/cuda/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu")) {
      dirs.add(Path.of(d));
    }
    List<String> missing = new ArrayList<>();
    for (String lib : CUDA_LIBRARIES) {
      if (dirs.stream().noneMatch(d -> Files.exists(d.resolve(lib)))) {
        missing.add(lib);
      }
    }
    return missing;
  }
}
