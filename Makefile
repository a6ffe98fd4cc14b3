# onnx-skip: every install step lives here or in the pom, so a fresh machine needs only this file.
MVN ?= mvn -B -q
JAR := bin/onnx-skip.jar
MODEL_FILES := models/minilm-l6/model.onnx models/minilm-l6/tokenizer.json models/minilm-l6-q/model.onnx

.PHONY: build models test clean

build: $(JAR)

$(JAR): pom.xml $(shell find src/main -type f 2>/dev/null)
	$(MVN) -DskipTests package
	cp target/onnx-skip-*.jar $(JAR)
	chmod +x bin/onnx-skip

models: $(MODEL_FILES)

$(MODEL_FILES): pom.xml
	$(MVN) dependency:unpack@models
	touch $(MODEL_FILES)

test: models
	$(MVN) test

clean:
	rm -rf target $(JAR) out
