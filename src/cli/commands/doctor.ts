import { createRequire } from 'node:module';
import path from 'node:path';
import type { Command } from 'commander';
import { UserInputError } from '../../errors.js';
import { initBackend } from '../../tensor/backend.js';
import { addonBlas, computeSummaryLine, describeComputePath, measureActiveSgemm, measureAddonSgemm, withMeasuredGemm, type SgemmFigure } from '../../tensor/doctor.js';
import { loadNative, type NativeAddon } from '../../tensor/kernels/native.js';
import { action, intOption } from '../action.js';

interface DoctorOptions {
  json?: boolean;
  rows: number;
  reps: number;
  compare?: string;
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('Which compute path is active, a measured SGEMM on it, and the one command that gets the best path on this machine')
    .option('--json', 'print one JSON object instead of text')
    .option('--rows <M>', 'rows of the timed SGEMM (M×512 · 512×4096, the SAE encoder at batch M)', intOption('rows', 1, 65536), 1024)
    .option('--reps <n>', 'timed repetitions (after one warm-up)', intOption('reps', 1, 100), 5)
    .option('--compare <addon>', 'also time the raw SGEMM of another native build (e.g. the other BLAS variant: native/build-own/Release/saeboard_native.node)')
    .action(
      action(async (opts: DoctorOptions) => {
        let other: NativeAddon | null = null;
        if (opts.compare) {
          try {
            other = createRequire(import.meta.url)(path.resolve(opts.compare)) as NativeAddon;
          } catch (err) {
            throw new UserInputError(`--compare: cannot load ${opts.compare}: ${(err as Error).message.split('\n')[0]}`);
          }
        }
        const info = await initBackend();
        let p = describeComputePath(info);
        const figures: SgemmFigure[] = [await measureActiveSgemm(opts.rows, 4096, 512, opts.reps)];
        const native = loadNative();
        let ownVsBlas: number | null = null;
        if (native.addon) {
          const saved = process.env.SAEBOARD_GEMM;
          try {
            if (addonBlas(native.addon) === 'openblas') {
              // the same addon on OpenBLAS and on saeboard's own SGEMM (linked into every build)
              process.env.SAEBOARD_GEMM = 'openblas';
              const blas = measureAddonSgemm(native.addon, 'raw sgemm, active addon on OpenBLAS', opts.rows, 4096, 512, opts.reps);
              process.env.SAEBOARD_GEMM = 'own';
              const own = measureAddonSgemm(native.addon, 'raw sgemm, same addon on its own SGEMM (SAEBOARD_GEMM=own)', opts.rows, 4096, 512, opts.reps);
              figures.push(blas, own);
              ownVsBlas = Math.round((own.msMin / blas.msMin) * 100) / 100;
            } else {
              figures.push(measureAddonSgemm(native.addon, 'raw sgemm, active addon (own SGEMM)', opts.rows, 4096, 512, opts.reps));
            }
          } finally {
            if (saved === undefined) delete process.env.SAEBOARD_GEMM;
            else process.env.SAEBOARD_GEMM = saved;
          }
        }
        p = withMeasuredGemm(p, ownVsBlas);
        if (other) figures.push(measureAddonSgemm(other, `raw sgemm, ${opts.compare} (${addonBlas(other)})`, opts.rows, 4096, 512, opts.reps));
        const out = {
          path: p.id,
          label: p.label,
          best: p.best,
          fix: p.fix,
          why: p.why,
          backend: info,
          sgemm: figures,
          // own SGEMM time / OpenBLAS time on this machine (< 1: the own SGEMM is faster here; SAEBOARD_GEMM=own forces it)
          ownVsBlas,
          summary: computeSummaryLine(p),
        };
        if (opts.json) {
          process.stdout.write(JSON.stringify(out) + '\n');
          return;
        }
        const lines = [`compute path: ${p.label}`];
        for (const f of figures) lines.push(`  ${f.what}: ${f.M}×${f.K} · ${f.K}×${f.N} in ${f.msMin} ms (min of ${opts.reps}; median ${f.msMedian} ms) = ${f.gflops} GFLOPS`);
        if (other && figures.length === 3) {
          lines.push(`  the --compare build takes ${(figures[2].msMin / figures[1].msMin).toFixed(2)}× the active build's time`);
        }
        if (ownVsBlas !== null) {
          lines.push(`  the own SGEMM takes ${ownVsBlas}× OpenBLAS's time here (OPENBLAS_CORETYPE ${process.env.OPENBLAS_CORETYPE ?? 'unset'})`);
        }
        lines.push(p.best ? 'best path: this one' : `best path: run \`${p.fix}\` (${p.why})`);
        process.stdout.write(lines.join('\n') + '\n');
      }),
    );
}
