# onnx-skip: every install step lives here or in the pom, so a fresh machine needs only this file.
MVN ?= mvn -B -q
JAR := bin/onnx-skip.jar
MODEL_FILES := models/minilm-l6/model.onnx models/minilm-l6/tokenizer.json models/minilm-l6-q/model.onnx

.PHONY: build cds build-gpu build-spark spark-lib fonts models data demo demo-spam demo-spark test test-large test-tools test-spark bench bench-large bench-spark clean

build: $(JAR)

# eval on Apache Spark: a project of its own (spark/), so that the main jar stays as it is. It builds on the
# plain main jar, installed in the local Maven repository; Spark itself is left to the cluster.
SPARK_JAR := bin/onnx-skip-spark.jar
SPARK_BUILD := $(CURDIR)/target/spark-lib
build-spark: $(SPARK_JAR)

spark-lib:
	$(MVN) -DskipTests -Dshade.skip=true -Dbuild.dir=$(SPARK_BUILD) install

$(SPARK_JAR): pom.xml spark/pom.xml $(shell find src/main spark/src/main -type f 2>/dev/null)
	$(MAKE) spark-lib
	cd spark && $(MVN) -DskipTests package
	cp spark/target/onnx-skip-spark-*.jar $(SPARK_JAR)

# Spark's own classpath, as an installation holds it, for running the jar without spark-submit.
SPARK_CLASSPATH := spark/target/spark-classpath.txt
$(SPARK_CLASSPATH): spark/local-spark.xml
	cd spark && $(MVN) -f local-spark.xml dependency:build-classpath -Dmdep.outputFile=target/spark-classpath.txt

# A class-data-sharing archive of the classes a command line loads cuts the JVM's start; the launcher
# uses it while it matches the jar and starts without it otherwise.
CDS := bin/onnx-skip.jsa
$(JAR): pom.xml $(shell find src/main -type f 2>/dev/null)
	$(MVN) -DskipTests package
	cp target/onnx-skip-*.jar $(JAR)
	chmod +x bin/onnx-skip
	rm -f $(CDS)
	java -XX:ArchiveClassesAtExit=$(CDS) -Xlog:cds=off -Xlog:cds+dynamic=off -Dai.djl.offline=true -jar $(JAR) eval --help > /dev/null

# build's archive holds the classes of `eval --help`; this one, once models and data are there, those
# a real run loads (protobuf, ONNX Runtime, the tokenizer, the statistics, the figures): a short probe
# and eval on a few reviews, the archive written as the eval exits. It replaces build's until the next build.
CDS_TRAINING := target/cds-training
CDS_TRAINED := bin/.onnx-skip.jsa.trained
cds: $(CDS_TRAINED)

$(CDS_TRAINED): $(JAR) $(MODEL_FILES) data/imdb/dev.jsonl
	rm -rf $(CDS_TRAINING) && mkdir -p $(CDS_TRAINING)
	head -n 64 data/imdb/train.jsonl > $(CDS_TRAINING)/train.jsonl
	head -n 16 data/imdb/dev.jsonl > $(CDS_TRAINING)/dev.jsonl
	bin/onnx-skip probe --model $(MINILM)/model.onnx --tokenizer $(MINILM)/tokenizer.json \
	  --train $(CDS_TRAINING)/train.jsonl -o $(CDS_TRAINING)/classifier.onnx --force > /dev/null
	java -XX:ArchiveClassesAtExit=$(CDS).tmp -Xlog:cds=off -Xlog:cds+dynamic=off -Dai.djl.offline=true -jar $(JAR) \
	  eval --model $(CDS_TRAINING)/classifier.onnx --tokenizer $(MINILM)/tokenizer.json --data $(CDS_TRAINING)/dev.jsonl \
	  --spans all --quiet --force --out $(CDS_TRAINING)/out > /dev/null
	mv -f $(CDS).tmp $(CDS)
	touch $@

# A CJK font beside the jar, so figures can show Chinese and Japanese labels and paths; the jar stays
# small and figures fall back to the installed fonts without it.
FONT := bin/fonts/NotoSansSC_400Regular.ttf
fonts: $(FONT)

$(FONT): tools/node_modules
	mkdir -p bin/fonts
	cp tools/node_modules/@expo-google-fonts/noto-sans-sc/LICENSE_FONT bin/fonts/NotoSansSC-OFL.txt
	cp tools/node_modules/@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf $@

models: $(MODEL_FILES)

# One unpack writes all three files (a grouped target, GNU make 4.3).
$(MODEL_FILES) &: pom.xml
	$(MVN) dependency:unpack@models
	touch $(MODEL_FILES)

build-gpu:
	$(MVN) -Pgpu -DskipTests package
	cp target/onnx-skip-*.jar $(JAR)
	chmod +x bin/onnx-skip
	rm -f $(CDS)
	java -XX:ArchiveClassesAtExit=$(CDS) -Xlog:cds=off -Xlog:cds+dynamic=off -Dai.djl.offline=true -jar $(JAR) eval --help > /dev/null

data: data/imdb/dev.jsonl data/spam/dev.jsonl

# fetch-data.sh renames dev.jsonl last, so dev.jsonl stands for both files of a dataset.
data/%/dev.jsonl: tools/fetch-data.sh tools/make-splits.mjs
	tools/fetch-data.sh $*

data/%/train.jsonl: data/%/dev.jsonl ;

# The embedded default: a linear probe on the real MiniLM encoder, then every skip span on IMDb.
MINILM := models/minilm-l6
demo: build cds models data/imdb/dev.jsonl
	bin/onnx-skip probe --model $(MINILM)/model.onnx --tokenizer $(MINILM)/tokenizer.json \
	  --train data/imdb/train.jsonl -o out/demo/classifier.onnx --force
	bin/onnx-skip eval --model out/demo/classifier.onnx --tokenizer $(MINILM)/tokenizer.json \
	  --data data/imdb/dev.jsonl --spans all --out out/demo --force

# Three labels (easy_ham, hard_ham, spam) show per-label patterns more clearly than two.
demo-spam: build models data/spam/dev.jsonl
	bin/onnx-skip probe --model $(MINILM)/model.onnx --tokenizer $(MINILM)/tokenizer.json \
	  --train data/spam/train.jsonl -o out/demo-spam/classifier.onnx --force
	bin/onnx-skip eval --model out/demo-spam/classifier.onnx --tokenizer $(MINILM)/tokenizer.json \
	  --data data/spam/dev.jsonl --spans all --out out/demo-spam --force

# Not quiet: the Surefire summary ("Tests run: N, Failures: 0 ...") is the test report.
test: models test-tools test-spark tools/node_modules $(FONT)
	mvn -B test

# A classifier over 2 GB (weights in external data) through inspect, rewrite and both engines: about
# 4.5 GB of temporary disk, so it has a target of its own.
test-large:
	mvn -B test -Dgroups=large -DexcludedGroups=none

# The Spark tests run on a local Spark inside Maven's test JVM.
test-spark: models spark-lib
	cd spark && mvn -B test

# onnxruntime-node for the cross-runtime check, and the CJK font; onnxruntime-node's postinstall would fetch CUDA files, so skip it.
tools/node_modules: tools/package.json tools/package-lock.json
	cd tools && ONNXRUNTIME_NODE_INSTALL=skip npm ci
	touch tools/node_modules

# classify-folder.test.mjs loads model folders written by the jar in transformers.js, offline.
test-tools: $(JAR) $(MODEL_FILES) tools/node_modules
	node --test tools/make-splits.test.mjs tools/classify-folder.test.mjs

# Measurements, printed side by side; never part of make test.
bench: $(JAR) cds models data/imdb/dev.jsonl tools/node_modules
	$(MVN) -DskipTests test-compile
	$(MVN) exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.onnxskip.bench.RewriteBench \
	  -Dexec.cleanupDaemonThreads=false
	$(MVN) exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.onnxskip.bench.EvalBench \
	  -Dexec.cleanupDaemonThreads=false
	$(MVN) exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.onnxskip.bench.LatencyBench \
	  -Dexec.cleanupDaemonThreads=false
	$(MVN) exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.onnxskip.bench.EndToEndBench \
	  -Dexec.cleanupDaemonThreads=false
	$(MAKE) bench-spark

# eval of a 2.3 GB classifier (weights in external data) with each engine: wall time and peak RSS
# against the weights' size. Writes the model to a temporary folder (2.3 GB of disk) and removes it.
bench-large:
	$(MVN) -DskipTests test-compile
	$(MVN) exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.onnxskip.bench.LargeModelBench \
	  -Dexec.cleanupDaemonThreads=false

# SparkEval on local[2] and local[1] against eval, side by side; in a JVM of its own, with the options Spark needs on Java 17.
bench-spark: models data/imdb/dev.jsonl spark-lib
	cd spark && $(MVN) -DskipTests test-compile
	cd spark && $(MVN) exec:exec -Dexec.executable=java -Dexec.classpathScope=test -Dexec.workingdir=$(CURDIR) \
	  -Dexec.args="@spark/java17-options.txt -Xmx3g -Dai.djl.offline=true -classpath %classpath dev.onnxskip.spark.SparkBench"

# The demo's evaluation on a local Spark (Maven's copy of Spark, with the options spark-submit adds on Java 17),
# then its results.json against make demo's, timestamps aside.
demo-spark: demo $(SPARK_JAR) $(SPARK_CLASSPATH)
	java @spark/java17-options.txt -cp $(SPARK_JAR):$$(cat $(SPARK_CLASSPATH)) dev.onnxskip.spark.SparkEval \
	  --master 'local[2]' --threads 1 --model out/demo/classifier.onnx --tokenizer $(MINILM)/tokenizer.json \
	  --data data/imdb/dev.jsonl --spans all --out out/demo-spark --force
	@grep -v '"timestamp"' out/demo/results.json > out/demo-spark/results.local.tmp
	@grep -v '"timestamp"' out/demo-spark/results.json > out/demo-spark/results.spark.tmp
	@if cmp -s out/demo-spark/results.local.tmp out/demo-spark/results.spark.tmp; then \
	  echo "demo-spark: out/demo-spark/results.json equals out/demo/results.json (timestamps aside)"; rm -f out/demo-spark/*.tmp; \
	else diff out/demo-spark/results.local.tmp out/demo-spark/results.spark.tmp | head -20; exit 1; fi

clean:
	rm -rf target spark/target $(JAR) $(SPARK_JAR) out
