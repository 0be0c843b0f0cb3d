/**
 * npm run test:faults: the fault scenarios of test/faults as a soak, outside
 * vitest: every profile's faults (or the chosen ones), round after round,
 * one stack at a time, then the table (also in <dir>/faults.json).
 *   npm run test:faults -- [--rounds N] [--seed S] [--profile P] [--process NAME] [--requests N]
 * --seed S replays a scenario: round r runs seed S + r - 1. --process takes a
 * process (daprd, app, scheduler, redis, postgres, kafka) or a fault ("pause kafka").
 */
import { parseArgs } from 'node:util';
import { newSeed, seedFromEnv } from '../test/faults/prng.ts';
import {
  addResult,
  faultsRunDir,
  formatFailures,
  formatTable,
  readResults,
  resultsFile,
} from '../test/faults/report.ts';
import { runScenario, selectFaults } from '../test/faults/scenario.ts';
import { type Profile, profiles } from './lib/stack.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '1' },
    seed: { type: 'string' },
    profile: { type: 'string', multiple: true },
    process: { type: 'string' },
    requests: { type: 'string' },
  },
});
const chosen = (values.profile ?? process.env.TEST_PROFILES?.split(',') ?? profiles)
  .flatMap((p) => p.split(','))
  .map((p) => p.trim());
const unknown = chosen.filter((p) => !profiles.includes(p as Profile));
if (unknown.length > 0) {
  console.error(`unknown profile ${unknown.join(', ')} (${profiles.join(', ')})`);
  process.exit(2);
}
const rounds = Number(values.rounds);
const seed = seedFromEnv(values.seed ?? process.env.FAULT_SEED);
const runDir = await faultsRunDir();
const plan = chosen.flatMap((profile) =>
  selectFaults(profile as Profile, values.process).map((fault) => ({ profile: profile as Profile, fault })),
);
if (plan.length === 0) {
  console.error(`no fault matches --process ${values.process} on ${chosen.join(', ')}`);
  process.exit(2);
}

// Ctrl-C: exit through process.exit, whose handler kills every stack process (they run in groups of their own).
process.once('SIGINT', () => process.exit(130));
console.log(`▶ ${rounds} round(s) of ${plan.length} scenario(s); results in ${resultsFile(runDir)}`);
for (let round = 1; round <= rounds; round++) {
  for (const { profile, fault } of plan) {
    const result = await runScenario({
      profile,
      fault,
      seed: seed === undefined ? newSeed() : seed + round - 1,
      runDir,
      ...(values.requests ? { requests: Number(values.requests) } : {}),
      log: (line) => console.log(line),
    });
    await addResult(runDir, result);
    console.log(
      `[faults] round ${round}: ${profile} ${result.fault}, seed ${result.seed}: ${result.passed ? 'passed' : `FAILED: ${result.failures.join('; ')}`} (${result.seconds.total.toFixed(0)} s)`,
    );
  }
}
const results = await readResults(runDir);
console.log(`\n${formatTable(results)}`);
if (results.some((r) => !r.passed)) {
  console.log(formatFailures(results));
  process.exit(1);
}
