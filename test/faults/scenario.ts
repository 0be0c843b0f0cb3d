import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Restartable, Scope, type Termination } from '../../scripts/lib/processes.ts';
import {
  freePorts,
  type ProcessName,
  type Profile,
  profileSpecs,
  projectRoot,
  type Stack,
  startStack,
} from '../../scripts/lib/stack.ts';
import { testResources } from '../integration/resources.ts';
import { evaluate, failures, lossAllowed, type Totals } from './evaluate.ts';
import { Load, send, type Target } from './load.ts';
import { listedTasks, observe } from './observe.ts';
import { planLoad } from './plan.ts';
import { formatReadings, type Readings, spinning, takeReadings } from './readings.ts';

/**
 * One fault scenario: a fresh stack of the profile, a seeded load through the
 * HTTP API, the fault striking the target process twice during it, then
 * recovery, settling and the checks (evaluate.ts), the readings that tell a
 * process spinning (readings.ts), and a clean SIGTERM of the target.
 */
export interface Fault {
  /** kill: SIGKILL, ~1.5 s down, started again the same way. pause: SIGSTOP for 10 s, then SIGCONT. */
  action: 'kill' | 'pause';
  process: ProcessName;
}

export const faultName = (fault: Fault) => `${fault.action} ${fault.process}`;

/** Every process the profile runs is killed; its servers (the store and the broker) are paused too. */
export function faultsFor(profile: Profile): Fault[] {
  const servers = profileSpecs[profile].servers;
  return [
    ...(['daprd', 'app', 'scheduler', ...servers] as const).map(
      (process) => ({ action: 'kill', process }) as const,
    ),
    ...servers.map((process) => ({ action: 'pause', process }) as const),
  ];
}

/** FAULT_PROCESS / --process picks faults by process name, or by name like "pause kafka". */
export const selectFaults = (profile: Profile, which?: string) =>
  faultsFor(profile).filter((f) => !which || which === f.process || which === faultName(f));

export const KILL_DOWN_MS = 1500;
export const PAUSE_MS = 10_000;

/**
 * About how long one fault keeps its process away: down, then starting
 * (Kafka takes ~13 s after a SIGKILL: its broker waits out the old one's
 * session before it registers again).
 */
const outageMs = (fault: Fault) =>
  fault.action === 'pause' ? PAUSE_MS : KILL_DOWN_MS + (fault.process === 'kafka' ? 13_000 : 1000);
/**
 * The load lasts about 1.5 outages per fault, at least 8 s: the faults
 * strike at 10–30% and 60–80% of it, so both meet a running load.
 */
export const loadMs = (fault: Fault, faults: number) => Math.max(8000, 1.5 * faults * outageMs(fault));
/** From a restart (or SIGCONT) to the first 200 of /readyz, at most. */
export const RECOVERY_LIMIT_MS = 60_000;
/** SIGTERM to exit, at most, before SIGKILL (Kubernetes' default grace is 30 s; these need a few). */
export const TERMINATION_GRACE_MS = 10_000;

export interface ScenarioOptions {
  profile: Profile;
  fault: Fault;
  seed: number;
  /** The load's size in requests (about). */
  requests?: number;
  /** How long the pipeline may take to settle after the load. */
  settleMs?: number;
  /** Where the scenario's work directory goes. */
  runDir: string;
  log?: (line: string) => void;
}

export interface ScenarioResult {
  profile: Profile;
  fault: string;
  seed: number;
  passed: boolean;
  failures: string[];
  totals: Totals;
  requests: number;
  /**
   * Per fault: restart (or SIGCONT) to the process answering its own health
   * check and /readyz answering 200, ms; null if that never came.
   */
  recoveryMs: Array<number | null>;
  /** Per kill: restart to the process answering its own health check, ms (Kafka's is most of its recovery). */
  startMs: number[];
  /** Faults that struck while the load was still running (the plan means all of them to). */
  duringLoad: number;
  idle: Readings;
  settled?: Readings;
  termination?: Termination;
  seconds: { start: number; load: number; settle: number; total: number };
  workDir: string;
  kept: boolean;
  /** The first findings, one line each. */
  notes: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const since = (t: number) => (Date.now() - t) / 1000;

/** Polls /readyz from `from` until a 200; the ms from `from`, or null after RECOVERY_LIMIT_MS. */
async function recovery(target: Target, from: number): Promise<number | null> {
  while (Date.now() - from < RECOVERY_LIMIT_MS) {
    const outcome = await send(target, 'GET', '/readyz', undefined, {}, 2000);
    if (outcome.status === 200) return Date.now() - from;
    await sleep(100);
  }
  return null;
}

/** Strikes at each of the plan's fault points in turn, while the load runs; returns the recovery times. */
async function inject(fault: Fault, process: Restartable, load: Load, at: number[], target: Target) {
  const recoveries: Array<number | null> = [];
  const starts: number[] = [];
  let duringLoad = 0;
  for (const steps of at) {
    await load.whenSteps(steps);
    if (!load.done) duringLoad += 1;
    if (fault.action === 'kill') {
      const killed = Date.now();
      await process.kill();
      // Down this long from the SIGKILL (the kill itself waits until every process of it is reaped).
      await sleep(Math.max(0, KILL_DOWN_MS - (Date.now() - killed)));
      const back = Date.now();
      await process.start();
      starts.push(Date.now() - back);
      recoveries.push(await recovery(target, back));
    } else {
      await process.pause();
      await sleep(PAUSE_MS);
      await process.resume();
      recoveries.push(await recovery(target, Date.now()));
    }
  }
  return { recoveries, starts, duringLoad };
}

/** The latest remindAt of any task the load created: reminders wrongly sent would come by then. */
const latestRemindAt = (load: Load) =>
  Math.max(
    0,
    ...load.tasks.flatMap((t) => {
      const sent = t.writes[0];
      return sent && t.plan.remindInMs !== undefined ? [sent.outcome.sentAt + t.plan.remindInMs] : [];
    }),
  );

/** Counts that settling can still change; the rest (responses, revisions) are final when the load ends. */
const unsettled = (totals: Totals, allowedLoss = 0) =>
  failures(totals, true, allowedLoss).filter((f) => !/^(unrevisioned|serverErrors|timeouts) /.test(f));
/** A loss the profile allows is taken as final once nothing has changed for this long. */
const STILL_MS = 20_000;

const noTotals = (): Totals => ({
  tasks: 0,
  acked: 0,
  ambiguous: 0,
  lost: 0,
  missing: 0,
  duplicates: 0,
  ghosts: 0,
  outOfOrder: 0,
  unrevisioned: 0,
  followUpMissing: 0,
  lostDeliveries: 0,
  followUpDuplicates: 0,
  followUpUnexpected: 0,
  serverErrors: 0,
  timeouts: 0,
  connectionErrors: 0,
  unavailable: 0,
});

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const { profile, fault, seed, log = () => {} } = options;
  const begun = Date.now();
  const name = `${profile} ${faultName(fault)} (seed ${seed})`;
  const workDir = await mkdtemp(join(options.runDir, `${profile}-${fault.action}-${fault.process}-`));
  const result: ScenarioResult = {
    profile,
    fault: faultName(fault),
    seed,
    passed: false,
    failures: [],
    totals: noTotals(),
    requests: 0,
    recoveryMs: [],
    startMs: [],
    duringLoad: 0,
    idle: { cpu: {}, windowMs: 0 },
    seconds: { start: 0, load: 0, settle: 0, total: 0 },
    workDir,
    kept: true,
    notes: [],
  };
  const found = result.failures;
  let stack: Stack | undefined;
  const scope = new Scope();
  try {
    const resources = await testResources(profile, workDir);
    stack = await startStack({
      scope,
      profile,
      workDir,
      ports: await freePorts(),
      ...resources,
      app: [process.execPath, join(projectRoot, 'dist', 'all.mjs')],
      log: () => {},
    });
    result.seconds.start = since(begun);
    const target = stack.processes[fault.process];
    if (!target) throw new Error(`the ${profile} stack runs no ${fault.process}`);
    const measured = ['daprd', 'app', ...(['daprd', 'app'].includes(fault.process) ? [] : [fault.process])];
    result.idle = await takeReadings(stack, resources.infraPorts, measured);
    log(
      `[faults] ${name}: stack up in ${result.seconds.start.toFixed(1)} s; idle ${formatReadings(result.idle)}`,
    );

    const plan = planLoad(seed, options.requests);
    const api: Target = { url: stack.url, apiToken: stack.apiToken };
    const daprd: Target = { url: `http://127.0.0.1:${stack.ports.daprHttp}`, apiToken: '' };
    const load = new Load(plan, api, { durationMs: loadMs(fault, plan.faultsAt.length) });
    const loadBegun = Date.now();
    const [, injected] = await Promise.all([
      load.run().then(() => {
        result.seconds.load = since(loadBegun);
      }),
      inject(fault, target, load, plan.faultsAt, api),
    ]);
    const recoveryMs = injected.recoveries;
    result.recoveryMs = recoveryMs;
    result.startMs = injected.starts;
    result.duringLoad = injected.duringLoad;
    result.requests = load.tasks.reduce((n, t) => n + t.writes.length, 0);
    for (const [i, ms] of recoveryMs.entries())
      if (ms === null)
        found.push(`no 200 from /readyz within ${RECOVERY_LIMIT_MS / 1000} s of fault ${i + 1}`);
    const recovered = recoveryMs.map((ms, i) => {
      const started =
        result.startMs[i] === undefined
          ? ''
          : ` (${fault.process} healthy in ${(result.startMs[i] / 1000).toFixed(1)} s)`;
      return ms === null ? 'never' : `${(ms / 1000).toFixed(1)} s${started}`;
    });
    log(
      `[faults] ${name}: ${result.requests} requests in ${result.seconds.load.toFixed(1)} s, faults after requests ${plan.faultsAt.join(' and ')} (${result.duringLoad} of ${plan.faultsAt.length} during the load); recovered in ${recovered.join(', ')}`,
    );

    // Settle: read everything back until the checks pass (twice in a row, and past every remindAt) or time is up.
    const settleBegun = Date.now();
    const remindersDue = latestRemindAt(load) + 5000;
    let evaluation: ReturnType<typeof evaluate>;
    let passes = 0;
    let waitingFor = '';
    let changed = Date.now();
    const allowed = lossAllowed(profile, fault, plan.faultsAt.length);
    for (;;) {
      const listed = await listedTasks(api);
      const ids = new Set([...load.tasks.flatMap((t) => (t.id ? [t.id] : [])), ...listed.map((t) => t.id)]);
      evaluation = evaluate(load.tasks, listed, await observe(api, daprd, stack.dataDir, [...ids]));
      const open = unsettled(evaluation.totals);
      // What settling still waits for, when that changes: shows which part of the pipeline is slow.
      if (open.join(', ') !== waitingFor) {
        waitingFor = open.join(', ');
        changed = Date.now();
        if (waitingFor)
          log(`[faults] ${name}: ${since(settleBegun).toFixed(0)} s into settling: ${waitingFor}`);
      }
      // Done when nothing is open, or what is open is a loss the profile allows and nothing moves any more.
      const done =
        open.length === 0 ||
        (unsettled(evaluation.totals, allowed).length === 0 && Date.now() - changed > STILL_MS);
      passes = done && Date.now() > remindersDue ? passes + 1 : 0;
      if (passes === 2 || Date.now() - settleBegun > (options.settleMs ?? 120_000)) break;
      await sleep(2000);
    }
    result.seconds.settle = since(settleBegun);
    result.totals = evaluation.totals;
    result.notes = evaluation.notes.slice(0, 40);
    await writeFile(
      join(workDir, 'records.json'),
      JSON.stringify({ plan, tasks: load.tasks, notes: evaluation.notes }, null, 1),
    );

    result.settled = await takeReadings(stack, resources.infraPorts, measured);
    found.push(...spinning(result.idle, result.settled));
    result.termination = await target.terminate(TERMINATION_GRACE_MS);
    if (!result.termination.graceful)
      found.push(`${fault.process} needed SIGKILL: SIGTERM left it running ${TERMINATION_GRACE_MS / 1000} s`);
    log(
      `[faults] ${name}: settled in ${result.seconds.settle.toFixed(1)} s; after recovery ${formatReadings(result.settled)}; ${fault.process} stopped in ${result.termination.ms} ms${result.termination.graceful ? '' : ' (SIGKILL)'}`,
    );
    found.push(...failures(evaluation.totals, fault.process === 'app', allowed));
  } catch (error) {
    found.push(`the scenario broke off: ${(error as Error).message ?? error}`);
    log(`[faults] ${name}: ${(error as Error).stack ?? error}`);
  } finally {
    await scope.stop();
  }
  result.passed = found.length === 0;
  result.kept = !result.passed || Boolean(process.env.KEEP_TEST_DATA);
  if (!result.kept) await rm(workDir, { recursive: true, force: true });
  else log(`[faults] ${name}: work dir kept: ${workDir}`);
  result.seconds.total = since(begun);
  return result;
}
