import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { provisionSchemathesis } from '../../scripts/lib/schemathesis.ts';
import { stack } from './client.ts';

/**
 * Schemathesis fuzzes the API from its own /openapi.json with every check
 * (no 5xx, responses as documented, schema-valid requests accepted,
 * schema-invalid ones refused, 405 + Allow for undeclared methods,
 * use-after-free, ...) and every phase, the stateful one included (it chains
 * create, read, change and delete through the document's links). The few
 * departures from a check's defaults are in schemathesis.toml with their
 * reasons. FUZZ_SEED replays a run; FUZZ_EXAMPLES sets the cases per operation.
 */
describe('the API fuzzed from its own OpenAPI document', () => {
  it('Schemathesis, all checks and phases: no failure', async () => {
    const schemathesis = await provisionSchemathesis();
    const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const examples = process.env.FUZZ_EXAMPLES ?? '50';
    const { url, apiToken } = stack();
    const args = [
      ...['--config-file', join(import.meta.dirname, 'schemathesis.toml'), '--no-color', 'run'],
      `${url}/openapi.json`,
      ...['--checks', 'all', '--phases', 'examples,coverage,fuzzing,stateful'],
      ...['--seed', String(seed), '--max-examples', examples, '--request-timeout', '15'],
      ...['--header', `Authorization: Bearer ${apiToken}`, '--output-sanitize', 'true'],
    ];
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      // Its cache (.schemathesis/) goes to the run's directory, not the checkout.
      const child = spawn(schemathesis, args, { cwd: stack().dataDir, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += chunk;
      });
      child.stderr.on('data', (chunk) => {
        output += chunk;
      });
      child.on('close', (exitCode) => resolve({ code: exitCode, output }));
    });
    const cases = output.match(/(\d+) generated, .*$/m)?.[0] ?? 'no summary';
    console.log(`[schemathesis] seed ${seed} (FUZZ_SEED=${seed} replays): ${cases}`);
    expect(code, `Schemathesis (seed ${seed}) found failures:\n${output.slice(-12_000)}`).toBe(0);
    expect(cases).toMatch(/^\d+ generated, \d+ passed/);
  });
});
