import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScenarioResult } from './scenario.ts';

/**
 * The directory the scenarios' stacks and results go in: FAULTS_DIR, or a new
 * temporary one. Readable by others (a temporary directory is 0700): the
 * PostgreSQL server runs as the postgres user and must reach its data below it.
 */
export async function faultsRunDir(): Promise<string> {
  if (process.env.FAULTS_DIR) return process.env.FAULTS_DIR;
  const dir = await mkdtemp(join(tmpdir(), 'tasks-faults-'));
  await chmod(dir, 0o755);
  return dir;
}

/**
 * The faults table (one row per profile and fault) and its JSON: every
 * scenario adds its result to `<runDir>/faults.json`, so the vitest runs of
 * several profiles, and the soak script, print one table in the end.
 */
export const resultsFile = (runDir: string) => join(runDir, 'faults.json');

export async function readResults(runDir: string): Promise<ScenarioResult[]> {
  const file = resultsFile(runDir);
  return existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as ScenarioResult[]) : [];
}

/** Runs of one directory are sequential (one stack at a time), so read-then-write is safe. */
export async function addResult(runDir: string, result: ScenarioResult) {
  const results = await readResults(runDir);
  await writeFile(resultsFile(runDir), `${JSON.stringify([...results, result], null, 1)}\n`);
}

const columns: Array<[string, (r: ScenarioResult) => string | number]> = [
  ['profile', (r) => r.profile],
  ['fault', (r) => r.fault],
  ['seed', (r) => r.seed],
  ['reqs', (r) => r.requests],
  ['acked', (r) => r.totals.acked],
  ['ambig', (r) => r.totals.ambiguous],
  ['lost', (r) => r.totals.lost],
  ['missing', (r) => r.totals.missing],
  ['dupl', (r) => r.totals.duplicates],
  ['ghost', (r) => r.totals.ghosts],
  ['order', (r) => r.totals.outOfOrder],
  ['no-rev', (r) => r.totals.unrevisioned],
  ['remind', (r) => r.totals.followUpMissing + r.totals.followUpDuplicates + r.totals.followUpUnexpected],
  ['5xx', (r) => r.totals.serverErrors],
  ['t/o', (r) => r.totals.timeouts],
  ['conn', (r) => r.totals.connectionErrors],
  ['recovery s', (r) => r.recoveryMs.map((ms) => (ms === null ? '-' : (ms / 1000).toFixed(1))).join('/')],
  ['time s', (r) => r.seconds.total.toFixed(0)],
  ['result', (r) => (r.passed ? 'passed' : 'FAILED')],
];

export function formatTable(results: ScenarioResult[]): string {
  const rows = results.map((r) => columns.map(([, value]) => String(value(r))));
  const widths = columns.map(([title], i) =>
    Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)),
  );
  const line = (cells: string[]) => `  ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}`;
  const legend =
    '  remind: reminder and overdue findings (missing + duplicate + unexpected); no-rev: write events without a revision;\n' +
    '  conn: connections refused or broken (expected only while the app is down);\n' +
    '  recovery: per fault, from the restart (or SIGCONT) until the process answers its health check and /readyz is 200';
  return [line(columns.map(([title]) => title)), ...rows.map(line), legend].join('\n');
}

/** Each failed scenario: what failed, its seed and its kept work directory, and its first findings. */
export function formatFailures(results: ScenarioResult[], notes = 8): string {
  return results
    .filter((r) => !r.passed)
    .map((r) =>
      [
        `  ${r.profile} ${r.fault}, seed ${r.seed} (FAULT_SEED=${r.seed} replays it): ${r.failures.join('; ')}`,
        `    work dir: ${r.workDir}`,
        ...r.notes.slice(0, notes).map((note) => `    ${note}`),
      ].join('\n'),
    )
    .join('\n');
}
