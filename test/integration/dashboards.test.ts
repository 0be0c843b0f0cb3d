import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { dashboards, panelQueries, variableQueries } from '../../observability/dashboards/index.ts';
import {
  activityTypes,
  api,
  deadLetter,
  eventually,
  type PromSample,
  prometheusQuery,
  publishToTaskEvents,
  stack,
} from './client.ts';

/**
 * Every expression of every dashboard (observability/grafana/dashboards, built
 * from observability/dashboards) and every alert rule runs against the suite's
 * real Prometheus, which scrapes the app and daprd every second. Grafana's
 * variables become "all" (.*), its rate window a fixed one. Prometheus must
 * accept each; on the dashboards of the app and daprd every panel must show
 * data after a short load that goes through every kind of trigger and outcome.
 */

/** Grafana's rate window here: the load runs in the minute before the queries. */
const WINDOW = '2m';
const asPromQL = (expr: string) => expr.replaceAll('$__rate_interval', WINDOW).replace(/\$\w+/g, '.*');
const hasNumbers = (samples: PromSample[]) => samples.some((s) => Number.isFinite(Number(s.value[1])));

/**
 * HTTP calls of every function and status class, a reminder (job trigger), the
 * overdue sweep (binding, every 2 s in the suite), events (topic) and one
 * event that can never be handled, so it is dropped to the dead-letter topic.
 */
async function shortLoad() {
  const remindAt = new Date(Date.now() + 1000).toISOString();
  const created = await api('POST', '/tasks', { title: 'dashboards', remindAt });
  expect(created.status).toBe(201);
  const task = await created.json();
  const other = await (await api('POST', '/tasks', { title: 'dashboards 2' })).json();
  const calls: Array<[string, string, unknown?]> = [
    ['GET', `/tasks/${task.id}`],
    ['GET', '/tasks/no-such-task'],
    ['GET', '/tasks?limit=5'],
    ['POST', '/tasks', { title: '' }],
    ['PATCH', `/tasks/${other.id}`, { priority: 'high' }],
    ['POST', `/tasks/${other.id}/complete`],
    ['GET', `/tasks/${other.id}/activity`],
    ['DELETE', `/tasks/${other.id}`],
    ['GET', '/dead-letters'],
  ];
  for (const [method, path, body] of calls) expect((await api(method, path, body)).status).toBeLessThan(500);
  // An event whose data can never be handled: onTaskEvent drops it to the dead-letter topic.
  const poisonId = `dashboards-${randomUUID()}`;
  await publishToTaskEvents({ id: poisonId, type: 'task.created', data: { title: 42 } }, task.id);
  await deadLetter(poisonId);
  await eventually(
    () => activityTypes(task.id),
    (types) => types.includes('task.reminder'),
    60_000,
  );
}

describe('dashboards and alert rules against the real Prometheus', () => {
  beforeAll(shortLoad, 180_000);

  const checked = { expressions: 0, withData: 0 };

  it.each(dashboards.map((d) => [d.file, d] as const))(
    '%s: Prometheus accepts every expression; the app and Dapr panels show data',
    async (_file, { dashboard, local }) => {
      for (const { metric, label, name } of variableQueries(dashboard)) {
        const expr = `group by (${label}) (${asPromQL(metric)})`;
        const values = await (local
          ? eventually(
              () => prometheusQuery(expr),
              (result) => result.length > 0,
              30_000,
            )
          : prometheusQuery(expr));
        checked.expressions++;
        if (local) expect(values.length, `variable ${name}`).toBeGreaterThan(0);
      }
      for (const { panel, exprs } of panelQueries(dashboard)) {
        // Each must be valid PromQL now; the local panels' data may take a few scrapes to show.
        for (const expr of exprs) await prometheusQuery(asPromQL(expr));
        checked.expressions += exprs.length;
        if (!local) continue;
        const results = await eventually(
          () => Promise.all(exprs.map((expr) => prometheusQuery(asPromQL(expr)))),
          (all) => all.some(hasNumbers),
          30_000,
        ).catch((error: Error) => {
          throw new Error(`${dashboard.title} / ${panel}: no data: ${error.message}`);
        });
        checked.withData += results.filter(hasNumbers).length;
      }
    },
  );

  it('every alert rule in observability/alerts.yml loads and evaluates without error', async () => {
    interface Rule {
      name: string;
      query: string;
      health: string;
      lastError?: string;
    }
    const rules = await eventually(
      async () => {
        const body = (await (await fetch(`${stack().prometheus}/api/v1/rules`)).json()) as {
          data: { groups: Array<{ rules: Rule[] }> };
        };
        return body.data.groups.flatMap((group) => group.rules);
      },
      (list) => list.length > 0 && list.every((rule) => rule.health !== 'unknown'),
      30_000,
    );
    expect(rules.map((rule) => rule.name).sort()).toEqual([
      'EventsDeadLettered',
      'FunctionErrorRate',
      'SidecarDown',
      'TaskEventsLagHigh',
    ]);
    for (const rule of rules) {
      expect(rule, rule.name).toMatchObject({ health: 'ok' });
      await prometheusQuery(rule.query);
      checked.expressions++;
    }
    // The dead letter of the load is seen: the counter started at 0, so increase() has its rise.
    const dead = await eventually(
      () => prometheusQuery('increase(task_events_dead_lettered_total[10m]) > 0'),
      (samples) => samples.length > 0,
      30_000,
    );
    expect(dead.length).toBeGreaterThan(0);
    console.log(
      `dashboards and rules: ${checked.expressions} expressions accepted by Prometheus, ${checked.withData} returned data`,
    );
  });
});
