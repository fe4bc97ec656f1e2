/**
 * The dashboard's typed GraphQL operations stay in step with the API: regenerating them from
 * schema.graphql (graphql-codegen, which also validates every operation against the schema) gives
 * exactly the committed web/src/gql/, and the app typechecks against them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/version.js';

const run = promisify(execFile);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-codegen-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('dashboard GraphQL operations', () => {
  it('web/src/gql/ is what `npm run codegen` generates from schema.graphql (every operation valid)', async () => {
    const out = path.join(tmp, 'gql') + path.sep;
    const script = `
      import { generate } from '@graphql-codegen/cli';
      import config from './web/codegen.ts';
      const [target, options] = Object.entries(config.generates)[0];
      await generate({ ...config, silent: true, generates: { [process.argv[1]]: options } }, true);
    `;
    await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, out], { cwd: PROJECT_ROOT, timeout: 120_000 });
    const committed = path.join(PROJECT_ROOT, 'web', 'src', 'gql');
    const files = readdirSync(committed).sort();
    expect(readdirSync(out).sort()).toEqual(files);
    for (const f of files) expect(readFileSync(path.join(out, f), 'utf8'), `web/src/gql/${f} is stale: run npm run codegen`).toBe(readFileSync(path.join(committed, f), 'utf8'));
  });

  it('the app typechecks against them', async () => {
    await run(process.execPath, [path.join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'web/tsconfig.json'], { cwd: PROJECT_ROOT, timeout: 120_000 });
  });
});
