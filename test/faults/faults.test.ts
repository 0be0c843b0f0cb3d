import { afterAll, describe, expect, it } from 'vitest';
import { testProfile } from '../integration/resources.ts';
import { newSeed, seedFromEnv } from './prng.ts';
import { addResult, faultsRunDir, formatFailures, formatTable, resultsFile } from './report.ts';
import { faultName, runScenario, type ScenarioResult, selectFaults } from './scenario.ts';

/**
 * The fault scenarios of one profile (TEST_PROFILE), one after the other,
 * each on a stack of its own: every process killed twice under load, the
 * store and the broker paused. FAULT_SEED replays a seed, FAULT_PROCESS
 * picks one process (or one fault, e.g. "pause kafka"), FAULTS_DIR collects
 * the results (faults.json) of several runs.
 */
const profile = testProfile();
const runDir = await faultsRunDir();
const results: ScenarioResult[] = [];

describe(`faults on ${profile}`, () => {
  afterAll(() => {
    if (results.length === 0) return;
    console.log(`\nfaults on ${profile} (results in ${resultsFile(runDir)}):\n${formatTable(results)}`);
    if (results.some((r) => !r.passed)) console.log(formatFailures(results));
  });

  for (const fault of selectFaults(profile, process.env.FAULT_PROCESS)) {
    it(faultName(fault), async () => {
      const seed = seedFromEnv() ?? newSeed();
      const result = await runScenario({
        profile,
        fault,
        seed,
        runDir,
        ...(process.env.FAULT_REQUESTS ? { requests: Number(process.env.FAULT_REQUESTS) } : {}),
        ...(process.env.FAULT_SETTLE_S ? { settleMs: Number(process.env.FAULT_SETTLE_S) * 1000 } : {}),
        log: (line) => console.log(line),
      });
      results.push(result);
      await addResult(runDir, result);
      expect(
        result.failures,
        `${faultName(fault)} on ${profile}, seed ${seed}, work dir ${result.workDir}`,
      ).toEqual([]);
    });
  }
});
