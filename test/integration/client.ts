import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { type ActivityEntry, activityKey } from '../../tasks/activity.ts';

/** A response whose JSON tests read without declaring its type first. */
// biome-ignore lint/suspicious/noExplicitAny: assertions check the shape
export type ApiResponse = Omit<Response, 'json'> & { json(): Promise<any> };

export const stack = () => inject('stack');

/** A call to the running Task API with the real token; objects are sent as JSON. */
export async function api(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const { url, apiToken } = stack();
  const init: RequestInit = { method, headers: { authorization: `Bearer ${apiToken}`, ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json', ...init.headers };
  }
  return (await fetch(`${url}${path}`, init)) as ApiResponse;
}

/** Polls `read` until `done` holds for its value; returns that value. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!done(last)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met after ${timeoutMs}ms; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await read();
  }
  return last;
}

/** A task's history as stored (read through daprd, so a deleted task's too). */
export async function storedActivity(id: string): Promise<ActivityEntry[]> {
  const response = await daprd('GET', `/v1.0/state/statestore/${encodeURIComponent(activityKey(id))}`);
  if (response.status === 204) return [];
  return (await response.json()).entries;
}

export async function activityTypes(id: string): Promise<string[]> {
  return (await storedActivity(id)).map((e) => e.type);
}

/** A call to daprd's own HTTP API (publish, jobs), as an operator or another app would make it. */
export async function daprd(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
  headers: Record<string, string> = {},
) {
  const { daprHttp } = stack();
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': contentType, ...headers };
  }
  return (await fetch(`http://127.0.0.1:${daprHttp}${path}`, init)) as ApiResponse;
}

/** The app's JSON log lines (stack logs in `<data>/logs/app.log`) that have `msg` and the given fields. */
export async function appLog(msg: string, fields: Record<string, unknown> = {}, logDir = stack().logDir) {
  const text = await readFile(join(logDir, 'app.log'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.msg === msg && Object.entries(fields).every(([k, v]) => entry[k] === v));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query to the suite's Prometheus; throws with Prometheus' error when it rejects the expression. */
export async function prometheusQuery(expr: string): Promise<PromSample[]> {
  const url = `${stack().prometheus}/api/v1/query?${new URLSearchParams({ query: expr })}`;
  const body = (await (await fetch(url)).json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: PromSample[] };
  };
  if (body.status !== 'success' || !body.data) throw new Error(`Prometheus rejected ${expr}: ${body.error}`);
  return body.data.result;
}

/**
 * Publishes a CloudEvent to task-events through daprd's publish API, keyed by
 * `partitionKey` (on Kafka, the partition), with any extra headers (e.g. a
 * traceparent); expects daprd's 204.
 */
export async function publishToTaskEvents(
  event: { id: string; type: string; data: unknown },
  partitionKey: string,
  headers: Record<string, string> = {},
) {
  const envelope = {
    specversion: '1.0',
    source: 'integration-test',
    datacontenttype: 'application/json',
    ...event,
  };
  const path = `/v1.0/publish/pubsub/task-events?metadata.partitionKey=${encodeURIComponent(partitionKey)}`;
  const response = await daprd('POST', path, envelope, 'application/cloudevents+json', headers);
  if (response.status !== 204)
    throw new Error(`publish answered ${response.status}: ${await response.text()}`);
}

/** Waits until GET /dead-letters lists the event `eventId`; returns its entry. */
export async function deadLetter(eventId: string, timeoutMs = 60_000): Promise<Record<string, string>> {
  const items = await eventually(
    async () => (await (await api('GET', '/dead-letters')).json()).items as Array<Record<string, string>>,
    (list) => list.some((item) => item.eventId === eventId),
    timeoutMs,
  );
  return items.find((item) => item.eventId === eventId) as Record<string, string>;
}
