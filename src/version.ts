import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, found from this file whether it runs from src/ (tsx, vitest) or dist/. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let cached: { version: string; commit: string | null } | undefined;

/**
 * Package version and git commit. The commit is what "code version" means in stored results, so
 * numbers can be traced to the code that produced them; SAEBOARD_COMMIT overrides (e.g. in Docker,
 * where there is no .git). A dirty tree gets a "-dirty" suffix.
 */
export function codeVersion(): { version: string; commit: string | null } {
  if (cached) return cached;
  const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
  let commit: string | null = process.env.SAEBOARD_COMMIT ?? null;
  if (!commit) {
    try {
      commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
        cwd: PROJECT_ROOT,
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .toString()
        .trim();
      const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
        cwd: PROJECT_ROOT,
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .toString()
        .trim();
      if (dirty) commit += '-dirty';
    } catch {
      commit = null;
    }
  }
  cached = { version: pkg.version, commit };
  return cached;
}

/** "0.1.0+abc123def456" — the string stored as code_version with every result. */
export function codeVersionString(): string {
  const { version, commit } = codeVersion();
  return commit ? `${version}+${commit}` : version;
}
