/**
 * Property-based fuzzing (fast-check, fixed seed) of everything that reads user files: PGN, chess
 * transcripts, Othello lines, sweep/trainer configs (YAML and JSON), safetensors headers, PyTorch
 * zip/pickle checkpoints and dataset manifests. For any input the outcome is a valid result or a
 * UserInputError with one readable line — never another exception — and nothing is written: the
 * suite runs in an empty working and temp directory that must stay empty, and the database a
 * damaged dataset is registered into must gain no row.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UserInputError } from '../../src/errors.js';
import { parsePgnString } from '../../src/games/chess/pgn.js';
import { analyzeTranscript, isEvaluableChessGame, parseTranscript, replayTranscript } from '../../src/games/chess/transcript.js';
import { adapterFor, openDataset, othelloRandomSource, othelloTranscriptSource, resolveFamilies, writeDataset } from '../../src/games/dataset/index.js';
import { parseManifest } from '../../src/games/dataset/format.js';
import { readManifest } from '../../src/games/dataset/reader.js';
import { parseOthelloLine, replayOthello, squareName } from '../../src/games/othello/index.js';
import { loadTorchBytes, toPlain, unpickle } from '../../src/lm/import/torch-pickle.js';
import { resolveTrainerConfig } from '../../src/sae/config.js';
import { parseConfigText, resolveSweep } from '../../src/sae/sweepConfig.js';
import { decodeSafetensors, encodeSafetensors, openSafetensors } from '../../src/util/safetensors.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const SEED = 0x5aeb0a2d;
const RUNS = 300;
const params = (numRuns = RUNS) => ({ seed: SEED, numRuns, endOnFailure: true });

/** A valid result or a UserInputError with one readable line; anything else fails the property. */
function clean<T>(fn: () => T): T | UserInputError {
  try {
    return fn();
  } catch (err) {
    return checkError(err);
  }
}

async function cleanAsync<T>(fn: () => Promise<T>): Promise<T | UserInputError> {
  try {
    return await fn();
  } catch (err) {
    return checkError(err);
  }
}

function checkError(err: unknown): UserInputError {
  if (!(err instanceof UserInputError)) {
    const e = err as Error;
    throw new Error(`expected a UserInputError, got ${e?.constructor?.name ?? typeof err}: ${e?.message ?? String(err)}`);
  }
  const m = err.message;
  if (!m.trim() || m.includes('\n') || m.length > 2000 || m.includes('[object ')) throw new Error(`unreadable error message: ${JSON.stringify(m.slice(0, 300))}`);
  return err;
}

/** Random edits of a valid text: the inputs real users make (typos, cuts, pastes). */
function mutatedText(valid: fc.Arbitrary<string>, alphabet: string): fc.Arbitrary<string> {
  const edit = fc.record({
    at: fc.nat(),
    kind: fc.constantFrom('insert', 'delete', 'replace', 'cut', 'duplicate'),
    ch: fc.oneof(fc.constantFrom(...alphabet.split('')), fc.string({ minLength: 1, maxLength: 3 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 2 })),
  });
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([text, edits]) => {
    let t = text;
    for (const e of edits) {
      const i = t.length ? e.at % (t.length + 1) : 0;
      if (e.kind === 'insert') t = t.slice(0, i) + e.ch + t.slice(i);
      else if (e.kind === 'delete') t = t.slice(0, i) + t.slice(i + 1);
      else if (e.kind === 'replace') t = t.slice(0, i) + e.ch + t.slice(i + e.ch.length);
      else if (e.kind === 'cut') t = t.slice(0, i);
      else t = t.slice(0, i) + t.slice(Math.max(0, i - 8), i) + t.slice(i);
    }
    return t;
  });
}

/** Random edits of bytes. */
function mutatedBytes(valid: Uint8Array, maxEdits = 6): fc.Arbitrary<Uint8Array> {
  return fc
    .array(fc.record({ at: fc.nat(), kind: fc.constantFrom('set', 'cut', 'insert', 'zero'), v: fc.integer({ min: 0, max: 255 }), n: fc.integer({ min: 1, max: 16 }) }), { minLength: 1, maxLength: maxEdits })
    .map((edits) => {
      let b = Uint8Array.from(valid);
      for (const e of edits) {
        const i = e.at % (b.length + 1);
        if (e.kind === 'set' && i < b.length) b[i] = e.v;
        else if (e.kind === 'cut') b = b.slice(0, i);
        else if (e.kind === 'insert') b = Uint8Array.from([...b.slice(0, i), ...new Array<number>(e.n).fill(e.v), ...b.slice(i)]);
        else if (e.kind === 'zero') b.fill(0, i, i + e.n);
      }
      return b;
    });
}

/** Random edits of a JSON-like value: replace, delete or add a field anywhere in the tree. */
function mutatedJson(valid: unknown): fc.Arbitrary<unknown> {
  const weird = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(null, -1, 0, 1.5, 1e308, -0, '', 'x', [], {}, [1, 2, 3], Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, '__proto__', 'constructor'),
  );
  const edit = fc.record({ pick: fc.nat(), kind: fc.constantFrom('replace', 'delete', 'add'), key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'toString')), value: weird });
  return fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) => {
    const root = structuredClone(valid) as unknown;
    for (const e of edits) {
      const slots: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
      const walk = (v: unknown) => {
        if (Array.isArray(v)) v.forEach((x, i) => (slots.push({ parent: v, key: i }), walk(x)));
        else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (slots.push({ parent: v as Record<string, unknown>, key: k }), walk(x));
      };
      walk(root);
      if (!slots.length) continue;
      const s = slots[e.pick % slots.length];
      const parent = s.parent as Record<string | number, unknown>;
      if (e.kind === 'replace') parent[s.key] = e.value;
      else if (e.kind === 'delete') {
        if (Array.isArray(parent)) parent.splice(s.key as number, 1);
        else delete parent[s.key];
      } else if (!Array.isArray(parent)) Object.defineProperty(parent, e.key, { value: e.value, enumerable: true, writable: true, configurable: true });
    }
    return root;
  });
}

// --- the sandbox: the code under test must write nothing here
const sandbox = mkdtempSync(path.join(os.tmpdir(), 'saeboard-fuzz-'));
const work = path.join(sandbox, 'cwd');
const temp = path.join(sandbox, 'tmp');
const fixtures = path.join(sandbox, 'fixtures');
const oldCwd = process.cwd();
const oldTmp = process.env.TMPDIR;
beforeAll(() => {
  for (const d of [work, temp, fixtures]) mkdirSync(d, { recursive: true });
  process.chdir(work);
  process.env.TMPDIR = temp;
});
afterEach(() => {
  expect(readdirSync(work), 'files written into the working directory').toEqual([]);
  expect(readdirSync(temp), 'files written into the temp directory').toEqual([]);
});
afterAll(() => {
  process.chdir(oldCwd);
  if (oldTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = oldTmp;
  rmSync(sandbox, { recursive: true, force: true });
});

const samplePgn = readFileSync(path.join(PROJECT_ROOT, 'test/fixtures/chess/lichess-sample.pgn'), 'utf8');
const sampleGames = parsePgnString(samplePgn).games.map((g) => g.transcript);
const pgnAlphabet = '[]"{}();$!?+#=-/*.0123456789 \n\tabcdefghKQRBNOx%\\';

describe('PGN', () => {
  it('any text, and edits of real PGN, parse or fail with a UserInputError', () => {
    const pgnText = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.array(fc.constantFrom('[Event "x"]', '[White "a\\"b"]', '1.', '1...', 'e4', 'e5', 'Nf3', 'Nc6', 'O-O', 'O-O-O', 'exd5', 'e8=Q', 'Qxf7#', '{c}', '{', '}', '(', ')', '$1', ';x', '\n', '\n\n', ' ', '1-0', '0-1', '1/2-1/2', '*', '%', '!?'), { maxLength: 60 }).map((a) => a.join(' ')),
      mutatedText(fc.constant(samplePgn.slice(0, 3000)), pgnAlphabet),
    );
    fc.assert(
      fc.property(pgnText, fc.boolean(), fc.integer({ min: 0, max: 3 }), (text, skipBad, minPlies) => {
        const r = clean(() => parsePgnString(text, { skipBad, minPlies }));
        if (r instanceof UserInputError) return;
        for (const g of r.games) {
          expect(g.transcript.startsWith(';')).toBe(true);
          // every imported game is a legal transcript
          expect(parseTranscript(g.transcript).sans.length).toBe(g.plies);
        }
        if (skipBad) expect(r.stats.games).toBe(r.stats.imported + r.stats.skipped + r.stats.tooShort);
      }),
      params(),
    );
  });
});

describe('chess transcripts', () => {
  const transcriptAlphabet = ' .;0123456789abcdefghKQRBNOx+#=-';
  const transcripts = fc.oneof(
    fc.string({ maxLength: 120 }),
    fc.string({ unit: fc.constantFrom(...transcriptAlphabet.split('')), maxLength: 200 }),
    mutatedText(fc.constantFrom(...sampleGames), transcriptAlphabet),
  );
  it('parseTranscript, replayTranscript, analyzeTranscript and isEvaluableChessGame', () => {
    fc.assert(
      fc.property(transcripts, fc.boolean(), (text, allowTruncatedEnd) => {
        const p = clean(() => parseTranscript(text, { where: 'games.txt line 3', allowTruncatedEnd }));
        if (!(p instanceof UserInputError)) expect(p.sans.length).toBeLessThanOrEqual(text.length);
        const r = clean(() => replayTranscript(text));
        if (!(r instanceof UserInputError)) expect(r.states.length).toBe(r.parsedTokens + 1);
        clean(() => analyzeTranscript(text, { where: 'x' }));
        clean(() => isEvaluableChessGame(text));
      }),
      params(),
    );
  });
});

describe('Othello lines', () => {
  const names = fc.array(fc.integer({ min: 0, max: 63 }), { maxLength: 64 }).map((sq) => sq.map(squareName));
  const lines = fc.oneof(
    fc.string({ maxLength: 200 }),
    names.map((n) => n.join(' ')),
    names.map((n) => n.join('')),
    fc.array(fc.integer({ min: -5, max: 100 }), { maxLength: 70 }).map((a) => a.join(',')),
    mutatedText(fc.constant('f5 d6 c3 d3 c4 f4 f6 f3 e6 e7 d7 g6 f8 c5 c6 e3'), 'abcdefghABCDEFGH0123456789 ,;\t-'),
  );
  it('parseOthelloLine then replayOthello', () => {
    fc.assert(
      fc.property(lines, fc.constantFrom('token' as const, 'square' as const), (line, numbering) => {
        const squares = clean(() => parseOthelloLine(line, 'games.txt line 1', numbering));
        if (squares instanceof UserInputError) return;
        for (const s of squares) expect(Number.isInteger(s) && s >= 0 && s < 64).toBe(true);
        const g = clean(() => replayOthello(squares, 'games.txt line 1'));
        if (!(g instanceof UserInputError)) expect(g.blackDiscs + g.whiteDiscs).toBe(4 + squares.length);
      }),
      params(),
    );
  });

  it('a transcript file of such lines imports or fails cleanly', async () => {
    const file = path.join(fixtures, 'games.txt');
    await fc.assert(
      fc.asyncProperty(fc.array(lines, { maxLength: 6 }), fc.boolean(), async (ls, skipBad) => {
        writeFileSync(file, ls.join('\n'));
        await cleanAsync(async () => {
          const src = await othelloTranscriptSource(file, { skipBad });
          for await (const g of src.games) expect(g.length).toBeLessThanOrEqual(60);
        });
      }),
      params(100),
    );
  });
});

describe('sweep and trainer configs', () => {
  const validSweep = {
    name: 'fuzz',
    batchSize: 64,
    seed: 1,
    buffer: { contexts: 10, maxMiB: 64 },
    source: { type: 'synthetic', dIn: 8, features: 16, active: 2, contexts: 100 },
    checkpoints: { logSpaced: true, steps: [5], resumeEvery: 10 },
    defaults: { steps: 2000 },
    trainers: [
      { trainer: 'standard', expansion: [2, 4], l1Penalty: { linspace: [0.01, 0.1, 3] } },
      { trainer: 'p_anneal', expansion: 2, initialSparsityPenalty: 0.1 },
      { trainer: 'top_k', dictSize: 16, k: { values: [2, 4] } },
      { trainer: 'gated', expansion: 2, l1Penalty: 0.5, betas: [0.9, 0.999] },
    ],
  };
  it('YAML/JSON text: parse, then resolve as a sweep', () => {
    const yamlText = fc.oneof(
      fc.string({ maxLength: 200 }),
      mutatedText(fc.constant(JSON.stringify(validSweep, null, 1)), '{}[],:"0123456789.-e \n'),
      mutatedText(fc.constant('name: y\nsource: { type: synthetic, dIn: 8, features: 8, active: 2, contexts: 10 }\ntrainers:\n  - { trainer: standard, expansion: 2, steps: 2000, l1Penalty: 0.1 }\n'), ':-{}[],&*!|>\'" \n\t#0123456789'),
      fc.constantFrom('a: &a [1,2]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n', '!!js/function "x"', '? [a]\n: b', '<<: *x'),
    );
    fc.assert(
      fc.property(yamlText, fc.constantFrom('sweep.yaml', 'sweep.json'), (text, file) => {
        const doc = clean(() => parseConfigText(text, file));
        if (doc instanceof UserInputError) return;
        clean(() => resolveSweep(doc, 8, file));
      }),
      params(),
    );
  });

  it('edited sweep documents resolve or name the bad field', () => {
    fc.assert(
      fc.property(mutatedJson(validSweep), (doc) => {
        const s = clean(() => resolveSweep(doc, 8, 'sweep.yaml'));
        if (s instanceof UserInputError) expect(s.message).toMatch(/^sweep\.yaml/);
        else for (const x of s.saes) expect(x.config.dIn).toBe(8);
      }),
      params(),
    );
  });

  it('edited and arbitrary trainer configs', () => {
    const valid = { trainer: 'gated_anneal', dIn: 8, expansion: 2, steps: 2000, batchSize: 32, initialSparsityPenalty: 0.2, annealStart: 100, lr: 1e-3 };
    fc.assert(
      fc.property(fc.oneof(mutatedJson(valid), fc.jsonValue({ maxDepth: 2 }), fc.anything({ maxDepth: 1 })), (cfg) => {
        const c = clean(() => resolveTrainerConfig(cfg, 'trainer'));
        if (!(c instanceof UserInputError)) expect(c.dictSize).toBeGreaterThan(0);
      }),
      params(),
    );
  });
});

describe('safetensors headers', () => {
  const valid = encodeSafetensors({ w: { data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] }, b: { data: new Int32Array([7, 8]), shape: [2] } }, { step: '3' });
  const header = (h: unknown, data = 32) => {
    const json = Buffer.from(JSON.stringify(h));
    const out = new Uint8Array(8 + json.length + data);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    return out;
  };
  const entry = fc.record(
    {
      dtype: fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'I32', 'U8', 'BOOL', 'I64', 'F64', 'toString', '__proto__', 'X'), fc.jsonValue({ maxDepth: 0 })),
      shape: fc.oneof(fc.array(fc.oneof(fc.integer({ min: -2, max: 9 }), fc.double(), fc.constantFrom('2', null, 1e20)), { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
      data_offsets: fc.oneof(fc.tuple(fc.integer({ min: -4, max: 40 }), fc.integer({ min: -4, max: 40 })), fc.array(fc.oneof(fc.double(), fc.string()), { maxLength: 3 }), fc.jsonValue({ maxDepth: 0 })),
    },
    { requiredKeys: [] },
  );
  const files = fc.oneof(
    mutatedBytes(valid),
    fc.uint8Array({ maxLength: 64 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 4 }), fc.constant('__metadata__')), fc.oneof(entry, fc.jsonValue({ maxDepth: 1 })), { maxKeys: 3 }).map((h) => header(h)),
    fc.jsonValue({ maxDepth: 2 }).map((h) => header(h)),
  );
  it('decodeSafetensors and openSafetensors', async () => {
    const file = path.join(fixtures, 'x.safetensors');
    await fc.assert(
      fc.asyncProperty(files, async (bytes) => {
        const r = clean(() => decodeSafetensors(bytes, 'x.safetensors'));
        if (!(r instanceof UserInputError)) for (const t of Object.values(r.tensors)) expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
        writeFileSync(file, bytes);
        await cleanAsync(async () => {
          const f = await openSafetensors(file);
          try {
            for (const name of Object.keys(f.entries)) await f.read(name);
          } finally {
            await f.close();
          }
        });
      }),
      params(),
    );
  });
});

describe('PyTorch checkpoints (zip + pickle)', () => {
  const aePt = new Uint8Array(readFileSync(path.join(PROJECT_ROOT, 'test/fixtures/sae/dl_relu/ae.pt')));
  it('edited torch.save zips load or fail cleanly; tensors read or fail cleanly', () => {
    fc.assert(
      fc.property(fc.oneof(mutatedBytes(aePt, 4), fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from([0x50, 0x4b, ...b]))), (bytes) => {
        const r = clean(() => toPlain(loadTorchBytes(bytes, 'ae.pt')));
        if (r instanceof UserInputError || !r || typeof r !== 'object') return;
        for (const v of Object.values(r as Record<string, unknown>)) {
          const t = v as { toFloat32?: () => Float32Array };
          if (typeof t?.toFloat32 === 'function') clean(() => t.toFloat32!());
        }
      }),
      params(),
    );
  });

  it('arbitrary pickle bytes never execute anything and fail cleanly', () => {
    // a real pickle stream (the one inside ae.pt) edited, and random opcode soups
    const hooks = { persistentLoad: (pid: unknown) => pid };
    const opcodes = fc.array(fc.oneof(fc.constantFrom(0x80, 0x02, 0x5d, 0x7d, 0x28, 0x4b, 0x4d, 0x4a, 0x58, 0x8c, 0x63, 0x93, 0x52, 0x85, 0x86, 0x87, 0x71, 0x68, 0x6a, 0x75, 0x73, 0x65, 0x61, 0x51, 0x62, 0x2e, 0x4e, 0x88, 0x89, 0x29, 0x74, 0x94, 0x30, 0x31, 0x32, 0x47, 0x8a, 0x95), fc.integer({ min: 0, max: 255 })), { maxLength: 80 }).map((a) => Uint8Array.from(a));
    fc.assert(
      fc.property(opcodes, (bytes) => {
        clean(() => unpickle(bytes, hooks, 'data.pkl'));
      }),
      params(),
    );
  });
});

describe('dataset manifests', () => {
  let dsDir: string;
  let manifest: Record<string, unknown>;
  let db: TestDatabase | null = null;
  beforeAll(async () => {
    dsDir = path.join(fixtures, 'ds');
    await writeDataset({ out: dsDir, adapter: adapterFor('othello'), families: resolveFamilies(adapterFor('othello'), 'board_state'), source: othelloRandomSource({ games: 12, seed: 3 }), shardGames: 5, showProgress: false });
    manifest = JSON.parse(readFileSync(path.join(dsDir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('edited manifests parse or fail cleanly', () => {
    fc.assert(
      fc.property(fc.oneof(mutatedJson(manifest), fc.jsonValue({ maxDepth: 3 })), (raw) => {
        clean(() => parseManifest(raw, 'manifest.json'));
      }),
      params(),
    );
  });

  it('a damaged dataset directory opens and verifies, or fails cleanly; registering it writes no row', async () => {
    const { registerDatasetDir } = await import('../../src/jobs/datasets.js');
    const text = JSON.stringify(manifest, null, 2);
    const mdFile = path.join(dsDir, 'manifest.json');
    let registered = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedJson(manifest).map((m) => JSON.stringify(m)), mutatedText(fc.constant(text), '{}[]",:0123456789.-')), async (md) => {
        writeFileSync(mdFile, md);
        const opened = await cleanAsync(async () => {
          const ds = await openDataset(dsDir);
          await ds.verify();
          for await (const shard of ds.shards()) expect(shard.nGames).toBeGreaterThan(0);
          return ds;
        });
        await cleanAsync(() => readManifest(dsDir));
        if (!db) return;
        const rows = async () =>
          (await db!.pool.query<{ n: number }>('SELECT (SELECT count(*) FROM datasets) + (SELECT count(*) FROM board_properties) + (SELECT count(*) FROM bsp_families) AS n')).rows[0].n;
        const before = await rows();
        const r = await cleanAsync(() => registerDatasetDir(db!.pool, dsDir, { replace: true }));
        const after = await rows();
        if (r instanceof UserInputError || opened instanceof UserInputError) expect(after, 'a rejected dataset added a row').toBe(before);
        else registered++;
      }),
      params(120),
    );
    writeFileSync(mdFile, text);
    expect(registered, 'some edits keep the dataset valid (the register path ran)').toBeGreaterThan(0);
  });
});
