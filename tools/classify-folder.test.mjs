// A model folder written by onnx-skip loads in transformers.js as it is, offline, and its
// text-classification scores are the softmax of the logits `onnx-skip eval --save-predictions`
// gives, for the baseline and for a variant. Needs bin/onnx-skip.jar (make build) and the MiniLM
// test model (make models).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classify } from './classify-folder.mjs';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const TOOL = join(ROOT, 'bin/onnx-skip');
const MINILM = join(ROOT, 'models/minilm-l6');
const TOLERANCE = 1e-5;

const TRAIN = [
  ['a wonderful, moving film', 'pos'], ['dull and far too long', 'neg'], ['I loved every minute of it', 'pos'],
  ['the worst movie I have seen this year', 'neg'], ['brilliant acting and a clever story', 'pos'], ['a boring mess', 'neg'],
  ['funny, warm and beautifully shot', 'pos'], ['I walked out after half an hour', 'neg'], ['a delight from start to finish', 'pos'],
  ['painfully bad dialogue', 'neg'], ['one of the best films of the decade', 'pos'], ['a waste of time and money', 'neg'],
];
const TEXTS = [
  ['an excellent, touching story', 'pos'], ['terrible plot and wooden acting', 'neg'], ['I would happily watch it again', 'pos'],
  ['nothing happens for two hours', 'neg'], ['a charming little gem', 'pos'], ['Why did anyone make this?', 'neg'],
];

function jsonl(rows) {
  return rows.map(([text, label]) => JSON.stringify({ text, label })).join('\n') + '\n';
}

function onnxSkip(...args) {
  return execFileSync(TOOL, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function softmax(logits) {
  const max = Math.max(...logits);
  const e = logits.map((z) => Math.exp(z - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

test('transformers.js scores of the baseline and a variant folder are the softmax of eval\'s logits', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'onnx-skip-folder-'));
  // Nothing may come from the network: a fetch would fail the test instead of downloading.
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url) => {
    throw new Error(`network access attempted: ${url}`);
  };
  try {
    writeFileSync(join(dir, 'train.jsonl'), jsonl(TRAIN));
    writeFileSync(join(dir, 'texts.jsonl'), jsonl(TEXTS));
    const classifier = join(dir, 'classifier.onnx');
    onnxSkip('probe', '--model', join(MINILM, 'model.onnx'), '--tokenizer', join(MINILM, 'tokenizer.json'),
      '--train', join(dir, 'train.jsonl'), '-o', classifier);
    onnxSkip('eval', '--model', classifier, '--tokenizer', join(MINILM, 'tokenizer.json'), '--data', join(dir, 'texts.jsonl'),
      '--spans', '2-3', '--out', join(dir, 'eval'), '--save-predictions', '--quiet');
    onnxSkip('rewrite', classifier, '--baseline', '--hf-dir', join(dir, 'baseline'), '--tokenizer', MINILM);
    onnxSkip('rewrite', classifier, '--span', '2-3', '--hf-dir', join(dir, 'skip-2-3'), '--tokenizer', MINILM);

    const predictions = readFileSync(join(dir, 'eval', 'predictions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(predictions.length, TEXTS.length);
    for (const [folder, variant] of [['baseline', 'baseline'], ['skip-2-3', '2-3']]) {
      const config = JSON.parse(readFileSync(join(dir, folder, 'config.json'), 'utf8'));
      assert.equal(config.num_hidden_layers, variant === 'baseline' ? 6 : 4, `${folder}: config.json's depth`);
      const scored = await classify(join(dir, folder), TEXTS.map(([text]) => text));
      const labels = Object.keys(config.id2label).sort((a, b) => a - b).map((i) => config.id2label[i]);
      assert.deepEqual(labels, ['neg', 'pos']);
      for (let i = 0; i < TEXTS.length; i++) {
        const want = softmax(predictions[i].logits[variant]);
        labels.forEach((label, j) => {
          const got = scored[i].scores[label];
          assert.ok(Math.abs(got - want[j]) <= TOLERANCE,
            `${folder}, "${TEXTS[i][0]}", ${label}: transformers.js ${got}, softmax of eval's logits ${want[j]}`);
        });
      }
    }
    // The variant really differs from the baseline, so the comparison above tells them apart.
    const differs = predictions.some((p) => Math.abs(softmax(p.logits['2-3'])[0] - softmax(p.logits.baseline)[0]) > 1e-3);
    assert.ok(differs, 'skipping layers 2-3 changes some scores');
  } finally {
    globalThis.fetch = realFetch;
    rmSync(dir, { recursive: true, force: true });
  }
});
