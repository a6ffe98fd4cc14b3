package dev.onnxskip;

/**
 * A malformed or inconsistent argument found after option parsing, such as a span outside the
 * model's layers. The CLI exits with the usage-error code (2) for it.
 */
public class UsageException extends OnnxSkipException {
  public UsageException(String message) {
    super(message);
  }
}
