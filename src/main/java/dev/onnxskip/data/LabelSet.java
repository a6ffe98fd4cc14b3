package dev.onnxskip.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.UsageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The names of a classifier's labels in logit order: name {@code i} belongs to logit {@code i}.
 *
 * <p>Gold labels of a data set are matched by name. A gold label written as a non-negative integer
 * ({@code "1"}) that is not itself a name is read as a logit index, but only when no name is an
 * integer: GLUE and most Hugging Face data sets store the class index the model was trained with
 * (data label {@code 1} with names {@code [neg, pos]} is {@code pos}), while a model whose names are
 * integers ({@code ["1", ..., "5"]} stars) makes {@code "1"} ambiguous between the name and the index,
 * so there only names match.
 */
public final class LabelSet {

  /** Where the names came from, in order of precedence. */
  public enum Source {
    /** Given on the command line ({@code --labels neg,pos}). */
    EXPLICIT,
    /** The {@code id2label} entry of the model's {@code metadata_props}. */
    MODEL_METADATA,
    /** The {@code id2label} of a Hugging Face {@code config.json} beside the model file. */
    CONFIG_JSON,
    /** No names anywhere: the logit indices {@code "0".."N-1"}. */
    INDICES
  }

  /** The {@code metadata_props} key (and {@code config.json} field) holding the label names. */
  public static final String ID2LABEL = "id2label";

  private static final ObjectMapper JSON = new ObjectMapper();
  // A canonical non-negative int: "01", "+1" or "1.0" are names, not indices.
  private static final Pattern INDEX = Pattern.compile("0|[1-9][0-9]{0,8}");

  private final List<String> names;
  private final Source source;
  private final String origin;
  private final LabelSet overridden;
  private final Map<String, Integer> indexByName;
  private final boolean integerNames;

  private LabelSet(List<String> names, Source source, String origin) {
    this(names, source, origin, null);
  }

  private LabelSet(List<String> names, Source source, String origin, LabelSet overridden) {
    if (names.isEmpty()) {
      throw problem(source, "no label names in " + origin);
    }
    this.names = List.copyOf(names);
    this.source = source;
    this.origin = origin;
    this.overridden = overridden;
    this.indexByName = new HashMap<>();
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      if (name.isBlank()) {
        throw problem(source, "label " + i + " in " + origin + " has an empty name");
      }
      Integer previous = indexByName.putIfAbsent(name, i);
      if (previous != null) {
        throw problem(source,
            "label '" + name + "' is named twice in " + origin + " (labels " + previous + " and " + i + ")");
      }
    }
    this.integerNames = names.stream().anyMatch(name -> INDEX.matcher(name).matches());
  }

  /** Names given directly, for example by {@code --labels}. */
  public static LabelSet of(List<String> names) {
    return new LabelSet(names, Source.EXPLICIT, "--labels");
  }

  /** What to do when {@code --labels} names the labels differently from the model's own id2label. */
  public enum ModelLabels {
    /** Refuse: a different order or other names would silently mislabel every logit. */
    KEEP,
    /** Use the given names instead, as {@code --labels-override} asks. */
    OVERRIDE
  }

  /** The {@code origin} of names given with {@code --labels} in place of the model's own. */
  public static final String OVERRIDING_ORIGIN = "--labels (overriding the model's id2label)";

  /**
   * The label names of a model: {@code explicit} if not empty, else the model's {@code id2label}
   * metadata, else the {@code id2label} of a {@code config.json} beside {@code modelPath}, or, when
   * none has names but {@code logitsWidth} is known, the indices {@code "0".."N-1"}. Explicit names
   * that differ from the model's own (in names or order) are refused unless {@code onDifference} is
   * {@link ModelLabels#OVERRIDE}; then {@link #overridden()} holds the model's names.
   * When {@code logitsWidth} is known the names must number exactly that many.
   *
   * @param explicit names from the command line, or an empty list or {@code null}
   * @param onDifference what to do when explicit names differ from the model's own
   * @param modelMetadata the model's {@code metadata_props} (custom metadata), possibly empty
   * @param modelPath the model file, to find {@code config.json} beside it; may be {@code null}
   * @param logitsWidth the size of the model's logits axis, if the model declares it
   */
  public static LabelSet resolve(List<String> explicit, ModelLabels onDifference, Map<String, String> modelMetadata,
      Path modelPath, OptionalInt logitsWidth) {
    boolean given = explicit != null && !explicit.isEmpty();
    LabelSet own;
    try {
      own = fromModel(modelMetadata, modelPath);
    } catch (OnnxSkipException e) {
      if (!given || onDifference != ModelLabels.OVERRIDE) {
        throw given ? new OnnxSkipException(e.getMessage() + "; --labels-override uses --labels instead", e) : e;
      }
      // Overriding is also the way past a model whose own names cannot be read.
      LabelSet labels = new LabelSet(explicit, Source.EXPLICIT, "--labels (the model's own labels are unreadable)");
      logitsWidth.ifPresent(labels::checkLogitsWidth);
      return labels;
    }
    LabelSet labels = own;
    if (explicit != null && !explicit.isEmpty()) {
      labels = of(explicit);
      if (own != null && !own.names.equals(labels.names)) {
        if (onDifference != ModelLabels.OVERRIDE) {
          throw new UsageException(
              "--labels " + String.join(",", explicit) + " differs from the model's id2label ("
                  + String.join(", ", own.names) + ", from " + own.origin + "); give --labels-override to use yours");
        }
        labels = new LabelSet(explicit, Source.EXPLICIT, OVERRIDING_ORIGIN, own);
      }
    }
    if (labels == null) {
      if (logitsWidth.isEmpty()) {
        throw new OnnxSkipException(
            "no label names: " + (modelPath == null ? "the model" : modelPath)
                + " has no id2label metadata, no config.json with id2label beside it"
                + " and no fixed logits width; pass --labels");
      }
      List<String> indices = new ArrayList<>();
      for (int i = 0; i < logitsWidth.getAsInt(); i++) {
        indices.add(Integer.toString(i));
      }
      return new LabelSet(indices, Source.INDICES, "logit indices");
    }
    logitsWidth.ifPresent(labels::checkLogitsWidth);
    return labels;
  }

  private static LabelSet fromModel(Map<String, String> modelMetadata, Path modelPath) {
    String metadata = modelMetadata == null ? null : modelMetadata.get(ID2LABEL);
    if (metadata != null) {
      String origin = "the id2label metadata of " + (modelPath == null ? "the model" : modelPath);
      JsonNode id2label;
      try {
        id2label = JSON.readTree(metadata);
      } catch (JsonProcessingException e) {
        throw new OnnxSkipException(origin + " is not JSON: " + e.getOriginalMessage(), e);
      }
      return new LabelSet(namesOf(id2label, origin), Source.MODEL_METADATA, origin);
    }
    if (modelPath == null) {
      return null;
    }
    Path config = modelPath.toAbsolutePath().resolveSibling("config.json");
    if (!Files.isRegularFile(config)) {
      return null;
    }
    JsonNode root;
    try {
      root = JSON.readTree(config.toFile());
    } catch (JsonProcessingException e) {
      throw new OnnxSkipException(config + ": invalid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new OnnxSkipException("cannot read " + config + ": " + e.getMessage(), e);
    }
    JsonNode id2label = root.get(ID2LABEL);
    if (id2label == null || id2label.isNull()) {
      return null;
    }
    String origin = "id2label of " + config;
    return new LabelSet(namesOf(id2label, origin), Source.CONFIG_JSON, origin);
  }

  /** Names from {@code {"0": "neg", "1": "pos"}} (ids 0..N-1, in any key order) or {@code ["neg", "pos"]}. */
  private static List<String> namesOf(JsonNode id2label, String origin) {
    List<String> names = new ArrayList<>();
    if (id2label.isArray()) {
      for (JsonNode name : id2label) {
        names.add(nameOf(name, origin));
      }
      return names;
    }
    if (!id2label.isObject()) {
      throw new OnnxSkipException(origin + " must be a JSON object or array, got " + id2label);
    }
    TreeMap<Integer, String> byId = new TreeMap<>();
    for (Map.Entry<String, JsonNode> entry : id2label.properties()) {
      if (!INDEX.matcher(entry.getKey()).matches()) {
        throw new OnnxSkipException(origin + ": key '" + entry.getKey() + "' is not a label index");
      }
      byId.put(Integer.parseInt(entry.getKey()), nameOf(entry.getValue(), origin));
    }
    if (!byId.isEmpty() && byId.lastKey() != byId.size() - 1) {
      throw new OnnxSkipException(
          origin + ": label indices must be 0.." + (byId.size() - 1) + ", got " + byId.keySet());
    }
    names.addAll(byId.values());
    return names;
  }

  private static String nameOf(JsonNode name, String origin) {
    if (!name.isValueNode() || name.isNull()) {
      throw new OnnxSkipException(origin + ": label name " + name + " is not a string");
    }
    return name.asText();
  }

  /** The names in logit order. */
  public List<String> names() {
    return names;
  }

  public int size() {
    return names.size();
  }

  public Source source() {
    return source;
  }

  /** Where the names came from, for messages and reports: "--labels", "id2label of .../config.json", ... */
  public String origin() {
    return origin;
  }

  /** The model's own labels that these names replace ({@code --labels-override}), if they do. */
  public Optional<LabelSet> overridden() {
    return Optional.ofNullable(overridden);
  }

  /**
   * The logit index of a gold label, or -1 if the model has no such label: its name, else, when no
   * name is an integer, the label read as an index (see the class comment).
   */
  public int indexOf(String label) {
    Integer index = indexByName.get(label);
    if (index != null) {
      return index;
    }
    if (!integerNames && INDEX.matcher(label).matches()) {
      int asIndex = Integer.parseInt(label);
      return asIndex < names.size() ? asIndex : -1;
    }
    return -1;
  }

  /** The logit index of every example's gold label, in data order; fails on the first unknown label. */
  public int[] goldIndices(LabelledData data) {
    List<Example> examples = data.examples();
    int[] indices = new int[examples.size()];
    for (int i = 0; i < indices.length; i++) {
      Example example = examples.get(i);
      indices[i] = indexOf(example.label());
      if (indices[i] < 0) {
        throw new OnnxSkipException(
            data.where(example) + ": label '" + example.label()
                + "' is not one of the model's labels: " + String.join(", ", names)
                + " (from " + origin + ")");
      }
    }
    return indices;
  }

  /** Fails unless the model's logits axis has exactly one entry per name. */
  public void checkLogitsWidth(int width) {
    if (width != names.size()) {
      throw problem(source,
          "model has " + width + " logits but " + names.size() + " labels are named: "
              + String.join(", ", names) + " (from " + origin + ")");
    }
  }

  /**
   * Bad names given with {@code --labels} are a usage error (the user mistyped an argument); bad
   * names in the model or its config.json are a failure of the input files.
   */
  private static OnnxSkipException problem(Source source, String message) {
    return source == Source.EXPLICIT ? new UsageException(message) : new OnnxSkipException(message);
  }

  @Override
  public String toString() {
    return names + " from " + origin;
  }
}
