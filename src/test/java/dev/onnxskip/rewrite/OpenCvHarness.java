package dev.onnxskip.rewrite;

import static org.bytedeco.opencv.global.opencv_core.CV_32F;
import static org.bytedeco.opencv.global.opencv_core.CV_32S;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.opencv.global.opencv_dnn;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_dnn.Net;

/**
 * Runs ONNX models in OpenCV's DNN module, a runtime that shares no code with ONNX Runtime: its own
 * ONNX importer, layer implementations and graph fusions.
 */
final class OpenCvHarness {
  private OpenCvHarness() {}

  /**
   * Runs a model file on integer token inputs and returns one float output.
   *
   * <p>OpenCV 4.x has no 64-bit integer matrices: its importer reads int64 model inputs as 32-bit
   * integers, so token ids go in as CV_32S.
   *
   * @throws RuntimeException with OpenCV's message when it cannot import or run the model
   */
  static OrtHarness.Floats run(Path model, Map<String, long[][]> inputs, String output) {
    try (Net net = opencv_dnn.readNetFromONNX(model.toString())) {
      List<Mat> mats = new ArrayList<>();
      try {
        for (Map.Entry<String, long[][]> e : inputs.entrySet()) {
          long[][] v = e.getValue();
          Mat m = new Mat(new int[] {v.length, v[0].length}, CV_32S);
          mats.add(m);
          IntPointer p = new IntPointer(m.data());
          for (int i = 0; i < v.length; i++) {
            for (int j = 0; j < v[i].length; j++) {
              p.put((long) i * v[i].length + j, Math.toIntExact(v[i][j]));
            }
          }
          net.setInput(m, e.getKey(), 1.0, null);
        }
        try (Mat out = net.forward(output)) {
          if (out.type() != CV_32F || !out.isContinuous()) {
            throw new IllegalStateException("OpenCV returned " + output + " as type " + out.type());
          }
          long[] shape = new long[out.dims()];
          for (int d = 0; d < shape.length; d++) {
            shape[d] = out.size(d);
          }
          float[] data = new float[Math.toIntExact(out.total())];
          new FloatPointer(out.data()).get(data);
          return new OrtHarness.Floats(data, shape);
        }
      } finally {
        mats.forEach(Mat::close);
      }
    }
  }
}
