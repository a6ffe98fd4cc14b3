package dev.onnxskip;

/**
 * A failure the user can act on: bad input, a model the tool cannot handle, a runtime that cannot
 * load. The CLI prints its message as one line, with no stack trace unless {@code --verbose}.
 * The message names the file, row or tensor at fault.
 */
public class OnnxSkipException extends RuntimeException {

  public OnnxSkipException(String message) {
    super(message);
  }

  public OnnxSkipException(String message, Throwable cause) {
    super(message, cause);
  }
}
