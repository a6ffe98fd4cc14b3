// Tests of tools/make-splits.mjs on tiny fabricated packages; no network needed.
//   node --test tools/make-splits.test.mjs
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mailBody, htmlToText, mulberry32, shuffled } from './make-splits.mjs';

const SCRIPT = fileURLToPath(new URL('./make-splits.mjs', import.meta.url));

let workDir;
before(() => {
  workDir = mkdtempSync(join(tmpdir(), 'make-splits-test-'));
});
after(() => rmSync(workDir, { recursive: true, force: true }));

function run(...args) {
  const result = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function runOk(...args) {
  const result = run(...args);
  assert.equal(result.status, 0, `make-splits failed: ${result.stderr}`);
  return result;
}

function readLines(file) {
  const content = readFileSync(file, 'utf8');
  assert.ok(content.endsWith('\n'), `${file} must end with a newline`);
  return content.slice(0, -1).split('\n').map((line) => {
    const example = JSON.parse(line);
    assert.deepEqual(Object.keys(example), ['text', 'label']);
    return example;
  });
}

function countByLabel(examples) {
  const counts = {};
  for (const { label } of examples) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}

/** How often the label changes walking down the file: 1 would mean one block per label. */
function labelChanges(examples) {
  return examples.slice(1).filter((example, i) => example.label !== examples[i].label).length;
}

function assertDisjoint(train, dev) {
  const trainTexts = new Set(train.map((e) => e.text));
  assert.equal(trainTexts.size, train.length, 'train repeats a text');
  assert.equal(new Set(dev.map((e) => e.text)).size, dev.length, 'dev repeats a text');
  for (const { text } of dev) assert.ok(!trainTexts.has(text), `text in both splits: ${text}`);
}

// ---------------------------------------------------------------------------------------------------------

describe('imdb', () => {
  // 20 negative then 20 positive reviews, as in the real package; each raw text with the clean text it must
  // become. Review 7 is repeated (same text, same label) and must be counted once.
  const expectedLabel = new Map();
  let packageDir;

  before(() => {
    packageDir = join(workDir, 'imdb-package');
    mkdirSync(packageDir);
    const reviews = [];
    for (const s of [0, 1]) {
      for (let i = 0; i < 20; i++) {
        const word = s === 0 ? 'dreadful' : 'wonderful';
        reviews.push({
          t: `Film ${s}-${i} was ${word}.<br /><br />I&#39;d  rate it <i>less</i> &amp; &quot;more&quot; < than 30 minutes.`,
          s,
        });
        expectedLabel.set(`Film ${s}-${i} was ${word}. I'd rate it less & "more" < than 30 minutes.`, s === 0 ? 'neg' : 'pos');
      }
    }
    reviews.splice(8, 0, { ...reviews[7] });
    writeFileSync(join(packageDir, 'reviews.json'), JSON.stringify(reviews));
  });

  test('balanced, disjoint, cleaned splits of the requested sizes', () => {
    const out = join(workDir, 'imdb-out');
    const { stdout } = runOk('imdb', packageDir, out, '--train-per-label', '6', '--dev-per-label', '4');
    const train = readLines(join(out, 'train.jsonl'));
    const dev = readLines(join(out, 'dev.jsonl'));

    assert.deepEqual(countByLabel(train), { neg: 6, pos: 6 });
    assert.deepEqual(countByLabel(dev), { neg: 4, pos: 4 });
    assertDisjoint(train, dev);
    for (const { text, label } of [...train, ...dev]) {
      assert.equal(expectedLabel.get(text), label, `unexpected text or label: ${label} ${text}`);
    }
    assert.ok(labelChanges(train) > 1 && labelChanges(dev) > 1, 'labels are not mixed');
    assert.match(stdout, /imdb: 41 records, 40 unique non-empty texts \(neg 20, pos 20\)/);
    assert.match(stdout, /train\.jsonl: 12 examples \(neg 6, pos 6\)/);
    assert.match(stdout, /dev\.jsonl: 8 examples \(neg 4, pos 4\)/);
    assert.deepEqual(readdirSync(out).sort(), ['dev.jsonl', 'train.jsonl'], 'temporary files left behind');
  });

  test('the same seed gives byte-identical files, another seed another draw', () => {
    const outputs = ['a', 'b', 'c'].map((name) => join(workDir, `imdb-seed-${name}`));
    runOk('imdb', packageDir, outputs[0], '--train-per-label', '6', '--dev-per-label', '4');
    runOk('imdb', packageDir, outputs[1], '--train-per-label', '6', '--dev-per-label', '4');
    runOk('imdb', packageDir, outputs[2], '--train-per-label', '6', '--dev-per-label', '4', '--seed', '7');
    for (const file of ['train.jsonl', 'dev.jsonl']) {
      const [a, b, c] = outputs.map((dir) => readFileSync(join(dir, file)));
      assert.ok(a.equals(b), `${file} differs between two runs`);
      assert.ok(!a.equals(c), `${file} ignores the seed`);
    }
  });

  test('too few reviews for the requested sizes is a one-line error naming the label', () => {
    const result = run('imdb', packageDir, join(workDir, 'imdb-too-many'), '--train-per-label', '17', '--dev-per-label', '4');
    assert.equal(result.status, 1);
    assert.equal(result.stderr, 'make-splits: label neg has 20 unique examples, 21 needed (dev 4, train 17)\n');
    assert.ok(!existsSync(join(workDir, 'imdb-too-many', 'dev.jsonl')));
  });

  test('a malformed review is a one-line error naming the file and the review', () => {
    const badDir = join(workDir, 'imdb-bad');
    mkdirSync(badDir);
    writeFileSync(join(badDir, 'reviews.json'), JSON.stringify([{ t: 'fine', s: 0 }, { t: 'odd', s: 2 }]));
    const result = run('imdb', badDir, join(workDir, 'imdb-bad-out'));
    assert.equal(result.status, 1);
    assert.equal(result.stderr, `make-splits: ${join(badDir, 'reviews.json')}: review 1 must be {"t": text, "s": 0 or 1}\n`);
  });
});

// ---------------------------------------------------------------------------------------------------------

const HEADERS = [
  'From someone@example.org  Thu Aug 22 12:36:23 2002',
  'Return-Path: <someone@example.org>',
  'Received: from relay.example.org (relay [10.0.0.1])',
  '\tby mx.example.org; Thu, 22 Aug 2002 12:36:23 +0100',
  'Subject: HEADER-SUBJECT',
  'Message-Id: <HEADER-ID@example.org>',
].join('\n');

function plainMail(body) {
  return `${HEADERS}\n\n${body}\n`;
}

function htmlMail(html) {
  return `${HEADERS}\nContent-Type: text/html; charset="iso-8859-1"\nContent-Transfer-Encoding: quoted-printable\n\n${html}\n`;
}

describe('spam', () => {
  let packageDir;
  const expectedLabel = new Map();

  function addMails(group, label, mails) {
    const dir = join(packageDir, 'data', group);
    mkdirSync(dir, { recursive: true });
    mails.forEach(([raw, cleanText], i) => {
      const id = String(i + 1).padStart(5, '0');
      const mail = { id, group, checksum: { type: 'MD5', value: 'c0ffee' }, text: raw };
      writeFileSync(join(dir, `${id}.c0ffee.json`), JSON.stringify(mail));
      writeFileSync(join(dir, `${id}.c0ffee.txt`), 'the .txt twins must be ignored');
      if (cleanText !== null) expectedLabel.set(cleanText, label);
    });
  }

  before(() => {
    packageDir = join(workDir, 'spam-package');
    const ham = (group, n) => Array.from({ length: n }, (_, i) => [
      plainMail(`Hi all,\n\nthe ${group} build ${i} is   green.\n-- \nBob`),
      `Hi all, the ${group} build ${i} is green. -- Bob`,
    ]);
    addMails('easy-ham-1', 'easy_ham', ham('easy-ham-1', 3));
    addMails('easy-ham-2', 'easy_ham', ham('easy-ham-2', 3));
    addMails('hard-ham-1', 'hard_ham', [
      ...Array.from({ length: 3 }, (_, i) => [
        htmlMail(`<html><body><p>Your <b>order ${i}</b> has=\n shipped&nbsp;today.</p></body></html>`),
        `Your order ${i} has shipped today.`,
      ]),
      [plainMail('Newsletter 9: caf=E9 prices'), 'Newsletter 9: caf=E9 prices'], // not quoted-printable: kept
    ]);
    addMails('spam-1', 'spam', [
      ...Array.from({ length: 3 }, (_, i) => [
        htmlMail(`<HTML><BODY><FONT color=3D"red">WIN $${i}000 caf=E9</FONT><BR>Click <A href=3D"x">here</A></BODY></HTML>`),
        `WIN $${i}000 café Click here`,
      ]),
      [htmlMail('<html><body><iframe src=3D"http://x"></iframe></body></html>'), null], // empty body: dropped
    ]);
    addMails('spam-2', 'spam', [
      ...Array.from({ length: 3 }, (_, i) => [
        `${HEADERS}\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="XYZ"\n\n`
          + 'This is a multi-part message in MIME format.\n--XYZ\nContent-Type: text/plain\n\nsee HTML\n'
          + '--XYZ\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n'
          + `${Buffer.from(`<p>Cheap pills №${i} — order now</p>`).toString('base64')}\n--XYZ--\n`,
        `Cheap pills №${i} — order now`,
      ]),
      [htmlMail(`<HTML><BODY><FONT color=3D"red">WIN $0000 caf=E9</FONT><BR>Click <A href=3D"x">here</A></BODY></HTML>`), null], // duplicate
    ]);
  });

  test('bodies only, labelled by folder, dev full and train capped by what is left', () => {
    const out = join(workDir, 'spam-out');
    const { stdout } = runOk('spam', packageDir, out, '--train-per-label', '4', '--dev-per-label', '2');
    const train = readLines(join(out, 'train.jsonl'));
    const dev = readLines(join(out, 'dev.jsonl'));

    // 6 easy_ham, 4 hard_ham, 6 unique spam (one empty and one duplicate dropped).
    assert.deepEqual(countByLabel(dev), { easy_ham: 2, hard_ham: 2, spam: 2 });
    assert.deepEqual(countByLabel(train), { easy_ham: 4, hard_ham: 2, spam: 4 });
    assertDisjoint(train, dev);
    for (const { text, label } of [...train, ...dev]) {
      assert.equal(expectedLabel.get(text), label, `unexpected text or label: ${label} ${text}`);
      assert.doesNotMatch(text, /HEADER-|Received|Return-Path|Content-Type|XYZ|</);
    }
    assert.match(stdout, /spam: 18 records, 16 unique non-empty texts \(easy_ham 6, hard_ham 4, spam 6\)/);
  });

  test('two runs give byte-identical files', () => {
    const [a, b] = ['a', 'b'].map((name) => join(workDir, `spam-run-${name}`));
    runOk('spam', packageDir, a, '--train-per-label', '4', '--dev-per-label', '2');
    runOk('spam', packageDir, b, '--train-per-label', '4', '--dev-per-label', '2');
    for (const file of ['train.jsonl', 'dev.jsonl']) {
      assert.ok(readFileSync(join(a, file)).equals(readFileSync(join(b, file))), `${file} differs between two runs`);
    }
  });

  test('a label without enough mails for dev is an error', () => {
    const result = run('spam', packageDir, join(workDir, 'spam-too-many'), '--dev-per-label', '4');
    assert.equal(result.status, 1);
    assert.equal(result.stderr, 'make-splits: label hard_ham has 4 unique examples, 5 needed (dev 4, train at least 1)\n');
  });

  test('a missing mail folder is an error naming it', () => {
    const result = run('spam', join(workDir, 'nowhere'), join(workDir, 'spam-nowhere'));
    assert.equal(result.status, 1);
    assert.equal(result.stderr, `make-splits: missing mail folder ${join(workDir, 'nowhere', 'data', 'easy-ham-1')}\n`);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('mail bodies', () => {
  test('quoted-printable soft breaks and bytes decode in the declared charset', () => {
    const mail = 'Subject: x\nContent-Type: text/plain; charset=iso-8859-1\n'
      + 'Content-Transfer-Encoding: quoted-printable\n\nna=EFve caf=\n=E9 =3D ok\n';
    assert.equal(mailBody(mail), 'naïve café = ok');
  });

  test('multipart/alternative keeps the fuller alternative, multipart/mixed keeps all text parts', () => {
    const mail = 'Content-Type: multipart/mixed; boundary=OUT\n\npreamble is not text\n'
      + '--OUT\nContent-Type: multipart/alternative; boundary="IN"\n\n'
      + '--IN\nContent-Type: text/plain\n\nHTML only\n--IN\nContent-Type: text/html\n\n<p>The real &amp; full message</p>\n--IN--\n'
      + '--OUT\nContent-Type: text/plain\n\nSecond part\n'
      + '--OUT\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAECAwQ=\n'
      + '--OUT\nContent-Type: text/plain\nContent-Disposition: attachment; filename="log.txt"\n\nattached log\n'
      + '--OUT--\nepilogue\n';
    assert.equal(mailBody(mail), 'The real & full message Second part');
  });

  test('MIME parts without a Content-Type header are still found, keeping the text before them', () => {
    const mail = 'Subject: fwd\n\nLook at this:\n--BOUNDARY1\nContent-Type: text/html\n\n<b>Buy</b> now\n--BOUNDARY1--\n';
    assert.equal(mailBody(mail), 'Look at this: Buy now');
  });

  test('headers end at the first blank line, CRLF or LF', () => {
    assert.equal(mailBody('Subject: a\r\nX-Long: b\r\n  folded\r\n\r\nBody\r\nline\r\n'), 'Body line');
  });
});

describe('markup', () => {
  test('tags become spaces, prose with angle brackets survives, entities decode', () => {
    assert.equal(htmlToText('a<br />b<BR>c < than 30 <33 <sp?) x&#8217;s &lt;tag&gt; &bogus;'),
      'a b c < than 30 <33 <sp?) x’s <tag> &bogus;');
    assert.equal(htmlToText('<style>p { color: red }</style><!-- note --><p>kept</p><script>var x = 1;</script>'), 'kept');
  });
});

describe('shuffling', () => {
  test('a seeded shuffle is a permutation and repeats with the seed', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const once = shuffled(items, mulberry32(2022));
    assert.deepEqual([...once].sort((a, b) => a - b), items);
    assert.notDeepEqual(once, items);
    assert.deepEqual(shuffled(items, mulberry32(2022)), once);
    assert.notDeepEqual(shuffled(items, mulberry32(2023)), once);
  });

  test('mulberry32 yields numbers in [0, 1)', () => {
    const random = mulberry32(0);
    for (let i = 0; i < 1000; i++) {
      const x = random();
      assert.ok(x >= 0 && x < 1, `${x} out of range`);
    }
  });
});
