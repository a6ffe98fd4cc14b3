package dev.onnxskip.spark;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * {@code testfs:///PATH} is the local file {@code /PATH}, read through a Hadoop FileSystem of a
 * scheme java.nio does not know, which records every file it opens. Registered with {@code
 * spark.hadoop.fs.testfs.impl}.
 */
public final class TestFileSystem extends RawLocalFileSystem {

  static final String CONF_KEY = "spark.hadoop.fs.testfs.impl";

  /** The local paths of the files opened, in order, by every instance. */
  static final List<String> OPENED = new CopyOnWriteArrayList<>();

  static String uri(java.nio.file.Path file) {
    return "testfs://" + file.toAbsolutePath();
  }

  @Override
  public URI getUri() {
    return URI.create("testfs:///");
  }

  @Override
  public String getScheme() {
    return "testfs";
  }

  @Override
  public FSDataInputStream open(Path file, int bufferSize) throws IOException {
    OPENED.add(file.toUri().getPath());
    return super.open(file, bufferSize);
  }
}
