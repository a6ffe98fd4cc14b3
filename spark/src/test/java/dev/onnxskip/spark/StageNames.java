package dev.onnxskip.spark;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;

/** Records the names of the stages Spark runs, as its UI shows them; registered through spark.extraListeners. */
public final class StageNames extends SparkListener {
  static final List<String> SEEN = new CopyOnWriteArrayList<>();

  @Override
  public void onStageSubmitted(SparkListenerStageSubmitted submitted) {
    SEEN.add(submitted.stageInfo().name());
  }
}
