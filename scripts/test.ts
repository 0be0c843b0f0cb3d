/**
 * npm test: the whole suite. Provisions the Dapr binaries (built from the Go
 * module proxy on first use), builds the bundles, then runs the unit tests and
 * the integration tests, which start the real scheduler and daprd.
 * Extra arguments go to vitest, e.g. `npm test -- --project unit`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { provisionDapr } from './lib/dapr-runtime.ts';
import { projectRoot } from './lib/stack.ts';

function run(step: string, args: string[]): Promise<void> {
  console.log(`\n▶ ${step}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: projectRoot, stdio: 'inherit' });
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${step} failed (exit ${code})`)),
    );
  });
}

try {
  console.log('▶ Dapr binaries');
  const started = Date.now();
  const binaries = await provisionDapr();
  console.log(
    `  daprd, scheduler and dapr CLI ready in ${binaries.daprd.replace(/\/daprd$/, '')} (${Date.now() - started} ms)`,
  );
  await run('Bundles (npm run build)', ['build.mjs']);
  await run('Tests (vitest: unit, integration)', [
    join('node_modules', 'vitest', 'vitest.mjs'),
    'run',
    ...process.argv.slice(2),
  ]);
} catch (error) {
  console.error(`\n${(error as Error).message}`);
  process.exit(1);
}
