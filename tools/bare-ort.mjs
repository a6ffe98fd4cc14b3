// A bare ONNX Runtime for Node.js loop, for make bench: session.run over token batches built
// beforehand, nothing else timed. Usage: node bare-ort.mjs MODEL BATCHES.json THREADS PASSES
// BATCHES.json holds [{"shape": [n, seq], "inputs": {"input_ids": [...], ...}}, ...] (int64 values).
// Prints one line of JSON: {"seconds": [pass, ...]} after one untimed pass.
import fs from 'node:fs';
import ort from 'onnxruntime-node';

const [model, batchesFile, threads, passes] = process.argv.slice(2);
const batches = JSON.parse(fs.readFileSync(batchesFile, 'utf8')).map((b) => {
  const feeds = {};
  for (const [name, values] of Object.entries(b.inputs)) {
    feeds[name] = new ort.Tensor('int64', BigInt64Array.from(values, BigInt), b.shape);
  }
  return feeds;
});
const session = await ort.InferenceSession.create(model, {
  intraOpNumThreads: Number(threads),
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
});
const outputs = [session.outputNames[0]];
async function pass() {
  for (const feeds of batches) {
    await session.run(feeds, outputs);
  }
}
await pass();
const seconds = [];
for (let i = 0; i < Number(passes); i++) {
  const t0 = process.hrtime.bigint();
  await pass();
  seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
}
console.log(JSON.stringify({ seconds }));
