/**
 * `npm run report [-- --database URL --out docs/reproduction.md --scale small]`: writes the
 * reproduction report and its SVG figures (next to it, in img/) from the database alone.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/pool.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { PROJECT_ROOT } from '../src/version.js';
import { buildReport, type Report } from './report/build.js';

export async function writeReport(pool: import('pg').Pool, opts: { out: string; scale?: string }): Promise<Report & { files: string[] }> {
  const report = await buildReport(pool, { scale: opts.scale });
  const imgDir = path.join(path.dirname(opts.out), 'img');
  mkdirSync(imgDir, { recursive: true });
  const files: string[] = [];
  for (const [name, svg] of Object.entries(report.svgs)) {
    const f = path.join(imgDir, name);
    await writeFileAtomic(f, svg);
    files.push(f);
  }
  await writeFileAtomic(opts.out, report.markdown);
  files.push(opts.out);
  return { ...report, files };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { database: { type: 'string' }, out: { type: 'string' }, scale: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run report -- [--database URL] [--out docs/reproduction.md] [--scale tiny|small|xN|paper]\n' +
        'Writes the reproduction report and docs/img/repro-*.svg from the database (default: DATABASE_URL, else the embedded one).\n' +
        'Without --scale: the newest reproduction in the database.\n',
    );
    return;
  }
  const db = await openDatabase({ url: values.database, migrate: false });
  try {
    const out = path.resolve(values.out ?? path.join(PROJECT_ROOT, 'docs', 'reproduction.md'));
    const r = await writeReport(db.pool, { out, scale: values.scale });
    process.stdout.write(`wrote ${r.files.length} files (scale ${r.scale}):\n${r.files.map((f) => `  ${path.relative(process.cwd(), f)}`).join('\n')}\n`);
    for (const c of r.claims) process.stdout.write(`  ${c.verdict.padEnd(15)} ${c.text}\n`);
  } finally {
    await db.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('scripts/report.ts')) {
  main().catch((err: Error) => {
    process.stderr.write(`report: error: ${err.message}\n`);
    process.exit(1);
  });
}
