import { chmod, cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultInfraPorts, type InfraPorts } from '../../scripts/lib/infra.ts';
import { freePort } from '../../scripts/lib/processes.ts';
import { type Profile, profileResources, profiles } from '../../scripts/lib/stack.ts';

/** How often the overdue sweep runs in tests (the profiles say every minute). */
export const TEST_SWEEP_SCHEDULE = '@every 2s';
/** How often the outbox's recovery sweep runs in tests (the profiles say every 5 s). */
export const TEST_OUTBOX_SWEEP_SCHEDULE = '@every 1s';

/** The profile the integration suite runs on: TEST_PROFILE, default embedded. */
export function testProfile(): Profile {
  const profile = process.env.TEST_PROFILE ?? 'embedded';
  if (!profiles.includes(profile as Profile))
    throw new Error(`TEST_PROFILE=${profile} is not a profile (${profiles.join(', ')})`);
  return profile as Profile;
}

export interface TestResources {
  resourcesPaths: string[];
  infraPorts: InfraPorts;
}

/**
 * One folder with a copy of the profile's components for a test stack: the
 * same files, but with the profile's servers on free ports (so a test run
 * never meets `npm start`'s servers), the overdue sweep every 2 s and the
 * outbox's sweep every second, so tests see several sweeps in seconds.
 */
export async function testResources(profile: Profile, workDir: string): Promise<TestResources> {
  // A temporary directory is private (0700); the postgres server user must reach its data below it.
  await chmod(workDir, 0o755);
  const dir = join(workDir, 'components');
  for (const folder of profileResources(profile)) await cp(folder, dir, { recursive: true });
  const infraPorts: InfraPorts = {
    redis: await freePort(),
    postgres: await freePort(),
    kafka: await freePort(),
    kafkaController: await freePort(),
  };
  for (const file of await readdir(dir)) {
    const path = join(dir, file);
    let yaml = await readFile(path, 'utf8');
    for (const server of ['redis', 'postgres', 'kafka'] as const) {
      yaml = yaml
        .replaceAll(`127.0.0.1:${defaultInfraPorts[server]}`, `127.0.0.1:${infraPorts[server]}`)
        .replaceAll(`port=${defaultInfraPorts[server]} `, `port=${infraPorts[server]} `);
    }
    const schedule = {
      'overdue-sweep.yaml': TEST_SWEEP_SCHEDULE,
      'outbox-sweep.yaml': TEST_OUTBOX_SWEEP_SCHEDULE,
    }[file];
    if (schedule) {
      const changed = yaml.replace(/(name: schedule\s+value: )"[^"]*"/, `$1"${schedule}"`);
      if (changed === yaml) throw new Error(`${path}: no schedule to replace`);
      yaml = changed;
    }
    await writeFile(path, yaml);
  }
  return { resourcesPaths: [dir], infraPorts };
}
