import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Profile, projectRoot } from '../../scripts/lib/stack.ts';

/** How often the overdue sweep runs in tests (the profiles say every minute). */
export const TEST_SWEEP_SCHEDULE = '@every 2s';

/**
 * A copy of the profile's components for a test stack, the same files but
 * for the cron binding's schedule, so tests see several sweeps in seconds.
 */
export async function testResources(profile: Profile, workDir: string): Promise<string> {
  const dir = join(workDir, 'components');
  await cp(join(projectRoot, 'components', profile), dir, { recursive: true });
  const sweep = join(dir, 'overdue-sweep.yaml');
  const yaml = await readFile(sweep, 'utf8');
  const changed = yaml.replace(/(name: schedule\s+value: )"[^"]*"/, `$1"${TEST_SWEEP_SCHEDULE}"`);
  if (changed === yaml) throw new Error(`${sweep}: no schedule to replace`);
  await writeFile(sweep, changed);
  return dir;
}
