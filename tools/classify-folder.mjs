#!/usr/bin/env node
// Loads a model folder written by `onnx-skip rewrite --hf-dir` or `onnx-skip select -o` the way an
// application would: with transformers.js (@huggingface/transformers) in a text-classification
// pipeline, from the local folder only (nothing is fetched), and prints every label's score for each
// text: a check that the folder is what a real client loads as it is.
//
//   node tools/classify-folder.mjs DIR TEXTS.jsonl
//
// TEXTS.jsonl holds one {"text": ...} object per line. Prints one JSON object per text and line,
// {"text": ..., "scores": {"LABEL": score, ...}}, the labels in the order of config.json's id2label.
// Needs tools/node_modules: cd tools && ONNXRUNTIME_NODE_INSTALL=skip npm ci

import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { env, pipeline } from '@huggingface/transformers';

/**
 * Scores of every label for each text, from the model folder `dir`, offline.
 * Returns [{text, scores: {label: score}}] with labels in id2label order.
 */
export async function classify(dir, texts) {
  const folder = resolve(dir);
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dirname(folder) + '/';
  env.useBrowserCache = false;
  env.useFSCache = false;
  const config = JSON.parse(readFileSync(resolve(folder, 'config.json'), 'utf8'));
  const labels = Object.keys(config.id2label).sort((a, b) => Number(a) - Number(b)).map((i) => config.id2label[i]);
  const classifier = await pipeline('text-classification', basename(folder), { dtype: 'fp32', device: 'cpu' });
  try {
    const results = [];
    for (const text of texts) {
      const out = await classifier(text, { top_k: null });
      const scores = {};
      for (const label of labels) {
        const hit = out.find((o) => o.label === label);
        if (!hit) {
          throw new Error(`label ${label} missing from the pipeline's output for "${text}"`);
        }
        scores[label] = hit.score;
      }
      results.push({ text, scores });
    }
    return results;
  } finally {
    await classifier.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [dir, textsFile] = process.argv.slice(2);
  if (!dir || !textsFile) {
    console.error('usage: node tools/classify-folder.mjs DIR TEXTS.jsonl');
    process.exit(2);
  }
  try {
    const texts = readFileSync(textsFile, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l).text);
    for (const r of await classify(dir, texts)) {
      console.log(JSON.stringify(r));
    }
  } catch (e) {
    console.error(`classify-folder: ${e.message}`);
    process.exit(1);
  }
}
