import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The fuzzer the suite runs against the API's own OpenAPI document, from PyPI. */
export const SCHEMATHESIS_VERSION = '4.32.5';

/**
 * Schemathesis in a virtualenv of its own under ~/.cache/tasks-on-dapr (made
 * with the machine's python3 on first use, about half a minute); returns the
 * `schemathesis` executable.
 */
export async function provisionSchemathesis(log: (line: string) => void = console.log): Promise<string> {
  const venv = join(homedir(), '.cache', 'tasks-on-dapr', `schemathesis-${SCHEMATHESIS_VERSION}`);
  const executable = join(venv, 'bin', 'schemathesis');
  if (existsSync(executable)) return executable;
  log(`[schemathesis] installing ${SCHEMATHESIS_VERSION} from PyPI into ${venv} (once, about 30 s)`);
  await rm(venv, { recursive: true, force: true });
  try {
    await run('python3', ['-m', 'venv', venv], { timeout: 120_000 });
    await run(
      join(venv, 'bin', 'pip'),
      ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`],
      {
        timeout: 600_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  } catch (error) {
    await rm(venv, { recursive: true, force: true });
    const { stderr } = error as { stderr?: string };
    throw new Error(
      `could not install Schemathesis (needs python3 with its venv module, and PyPI): ${stderr?.trim() || (error as Error).message}`,
    );
  }
  log('[schemathesis] installed');
  return executable;
}
