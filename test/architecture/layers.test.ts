/**
 * The layering of .dependency-cruiser.cjs holds for src/, and the rule file really catches what it
 * forbids: an upward import, a science folder importing Postgres, a cycle.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DEPCRUISE = path.join(ROOT, 'node_modules/.bin/depcruise');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

async function violations(cwd: string, dirs: string[] = ['src']): Promise<Violation[]> {
  const { stdout } = await promisify(execFile)(DEPCRUISE, [...dirs, '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], {
    cwd,
    maxBuffer: 64 << 20,
  }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' })); // exit ≠ 0 on violations; the JSON says which
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('architecture', () => {
  it('src/ has no upward import, no cycle and no server package in the science layers', async () => {
    const found = await violations(ROOT);
    expect(found.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  });

  it('web/ (the dashboard) imports nothing of the server, tests or tools: it talks GraphQL', async () => {
    const found = await violations(ROOT, ['web/src']);
    expect(found.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  });

  const planted = fs.mkdtempSync(path.join(os.tmpdir(), 'saeboard-layers-'));
  afterAll(() => fs.rmSync(planted, { recursive: true, force: true }));

  it('the rules catch planted violations', async () => {
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(planted, file)), { recursive: true });
      fs.writeFileSync(path.join(planted, file), text);
    };
    fs.copyFileSync(path.join(ROOT, '.dependency-cruiser.cjs'), path.join(planted, '.dependency-cruiser.cjs'));
    fs.copyFileSync(path.join(ROOT, 'tsconfig.json'), path.join(planted, 'tsconfig.json'));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(planted, 'node_modules'));
    write('src/errors.ts', 'export const e = 1;\n');
    write('src/api/schema.ts', "import { e } from '../errors.js';\nexport const s = e;\n");
    write('src/lm/model.ts', "import { s } from '../api/schema.js';\nexport const m = s;\n"); // upward
    write('src/games/board.ts', "import pg from 'pg';\nexport const b = pg;\n"); // server package in science
    write('src/sae/a.ts', "import { b } from './b.js';\nexport const a = () => b;\n"); // cycle a <-> b
    write('src/sae/b.ts', "import { a } from './a.js';\nexport const b = () => a;\n");
    write('src/stray/x.ts', "import { e } from '../errors.js';\nexport const x = e;\n"); // outside every layer

    write('web/src/page.ts', "import { e } from '../../src/errors.js';\nexport const p = e;\n"); // the dashboard importing server code

    const rules = new Set((await violations(planted, ['src', 'web'])).map((v) => `${v.rule.name} ${v.from}`));
    expect(rules).toContain('web-imports-server-code web/src/page.ts');
    expect(rules).toContain('lm-imports-upward src/lm/model.ts');
    expect(rules).toContain('science-imports-server-packages src/games/board.ts');
    expect(rules).toContain('no-circular src/sae/a.ts');
    expect(rules).toContain('src-outside-layers src/stray/x.ts');
  });
});
