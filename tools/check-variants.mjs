#!/usr/bin/env node
// Loads every variant that `onnx-skip rewrite` lists in a manifest into ONNX Runtime for Node.js
// (onnxruntime-node), runs it once and prints checksums of its outputs: a check that the files load
// outside the JVM, from their paths, external weights included. It is the same ONNX Runtime core as
// the Java tool uses, so it checks the portability of the files, not the arithmetic.
//
//   node tools/check-variants.mjs DIR [DIR ...] [--batch N] [--sequence N]
//
// Needs tools/node_modules: cd tools && ONNXRUNTIME_NODE_INSTALL=skip npm ci
// (without the variable, the package's install script tries to download GPU libraries).
//
// Prints one JSON object per variant and line:
//   {"dir": DIR, "file": "skip-2-3.onnx", "span": [2, 3],
//    "outputs": {"last_hidden_state": {"shape": [2, 8, 384], "sum": ..., "sum_abs": ..., "sum_weighted": ...,
//                                      "sample": [8 values]}}}
// or {"dir": ..., "file": ..., "span": ..., "error": "..."} for a variant that does not load or run; the exit
// code is then 1. Sums are over the float32 output in float64; sum_weighted weighs element i by
// ((i mod 1009) + 1) / 1009, so that moved values change it; sample holds the elements at
// floor(k * (n - 1) / 7) for k = 0..7.
//
// Inputs are made here, the same for every variant, so that any other runtime can rebuild them:
// batch B and sequence S come from --batch and --sequence, else from a static dimension 0 and 1 of the
// variant's first input, else B = 2 and S = 8. Row r has L = max(1, S - 2r) real tokens followed by
// padding. For t < L: input_ids = 2 + (7r + 3t) mod 29, attention_mask = 1, token_type_ids = 1 when
// t >= ceil(L / 2) else 0; padding has input_ids 0, attention_mask 0 and token_type_ids 0. Any other
// input is an error for that variant.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';

const DEFAULT_BATCH = 2;
const DEFAULT_SEQUENCE = 8;
const WEIGHT_PERIOD = 1009;
const SAMPLES = 8;

/** A failure caused by the arguments or a manifest; reported as one line without a stack trace. */
class InputError extends Error {}

function positive(name, value) {
  if (value === undefined) {
    return undefined;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) {
    throw new InputError(`--${name} must be a whole number from 1 to 1000000, not '${value}'`);
  }
  return n;
}

function readManifest(dir) {
  const file = join(dir, 'manifest.json');
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: cannot read (${e.code ?? e.message}); is ${dir} a folder written by onnx-skip rewrite?`);
  }
  let manifest;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not JSON (${e.message})`);
  }
  if (!Array.isArray(manifest.variants) || manifest.variants.length === 0) {
    throw new InputError(`${file}: lists no variants`);
  }
  for (const v of manifest.variants) {
    if (typeof v.file !== 'string') {
      throw new InputError(`${file}: a variant entry has no file: ${JSON.stringify(v)}`);
    }
  }
  return manifest;
}

/** Token inputs by the rule in the header, as ONNX Runtime tensors of the element type each input declares. */
function makeInputs(ort, metadata, batch, sequence) {
  const feeds = {};
  for (const input of metadata) {
    const values = [];
    for (let r = 0; r < batch; r++) {
      const length = Math.max(1, sequence - 2 * r);
      for (let t = 0; t < sequence; t++) {
        const real = t < length;
        switch (input.name) {
          case 'input_ids':
            values.push(real ? 2 + ((7 * r + 3 * t) % 29) : 0);
            break;
          case 'attention_mask':
            values.push(real ? 1 : 0);
            break;
          case 'token_type_ids':
            values.push(real && t >= Math.ceil(length / 2) ? 1 : 0);
            break;
          default:
            throw new Error(`input '${input.name}' is not a token input this script can fill`);
        }
      }
    }
    const type = input.type ?? 'int64';
    const data = type === 'int32' ? Int32Array.from(values) : BigInt64Array.from(values, BigInt);
    feeds[input.name] = new ort.Tensor(type === 'int32' ? 'int32' : 'int64', data, [batch, sequence]);
  }
  return feeds;
}

/** The checksums described in the header, of one float32 output. */
function checksums(data, dims) {
  let sum = 0;
  let sumAbs = 0;
  let sumWeighted = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    sum += v;
    sumAbs += Math.abs(v);
    sumWeighted += v * (((i % WEIGHT_PERIOD) + 1) / WEIGHT_PERIOD);
  }
  const sample = [];
  for (let k = 0; k < SAMPLES; k++) {
    sample.push(data[Math.floor((k * (data.length - 1)) / (SAMPLES - 1))]);
  }
  return { shape: dims.map(Number), sum, sum_abs: sumAbs, sum_weighted: sumWeighted, sample };
}

function staticDim(metadata, axis) {
  const d = metadata[0]?.shape?.[axis];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

async function checkVariant(ort, dir, variant, options) {
  const file = resolve(dir, variant.file);
  const line = { dir, file: variant.file, span: variant.span };
  let session;
  try {
    session = await ort.InferenceSession.create(file);
    const batch = options.batch ?? staticDim(session.inputMetadata, 0) ?? DEFAULT_BATCH;
    const sequence = options.sequence ?? staticDim(session.inputMetadata, 1) ?? DEFAULT_SEQUENCE;
    const results = await session.run(makeInputs(ort, session.inputMetadata, batch, sequence));
    line.outputs = {};
    for (const name of session.outputNames) {
      const tensor = results[name];
      if (tensor.type !== 'float32') {
        throw new Error(`output '${name}' is ${tensor.type}, not float32`);
      }
      line.outputs[name] = checksums(tensor.data, tensor.dims);
    }
  } catch (e) {
    line.error = String(e.message ?? e).replace(/\s+/g, ' ').trim();
  } finally {
    await session?.release();
  }
  return line;
}

async function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { batch: { type: 'string' }, sequence: { type: 'string' } },
  });
  if (positionals.length === 0) {
    throw new InputError('usage: node tools/check-variants.mjs DIR [DIR ...] [--batch N] [--sequence N]');
  }
  const options = { batch: positive('batch', values.batch), sequence: positive('sequence', values.sequence) };
  const manifests = positionals.map((dir) => [dir, readManifest(dir)]);
  let ort;
  try {
    ort = createRequire(import.meta.url)('onnxruntime-node');
  } catch (e) {
    throw new InputError(
      `onnxruntime-node is not installed next to this script (${e.code ?? e.message}); run: cd tools && ONNXRUNTIME_NODE_INSTALL=skip npm ci`);
  }
  let failed = 0;
  for (const [dir, manifest] of manifests) {
    for (const variant of manifest.variants) {
      const line = await checkVariant(ort, dir, variant, options);
      if (line.error) {
        failed++;
      }
      process.stdout.write(JSON.stringify(line) + '\n');
    }
  }
  return failed === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    if (e instanceof InputError || e.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`check-variants: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      throw e;
    }
  });
