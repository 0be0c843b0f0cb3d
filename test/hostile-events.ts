import { taskEventTypes } from '../tasks/events.ts';
import type { Random } from './faults/prng.ts';

/**
 * Hostile payloads for the routes daprd calls (events, jobs, input bindings),
 * drawn from a seeded PRNG: the same seed gives the same set. Every payload is
 * JSON text, built as text, so a test can send what JSON.stringify would never
 * write (keys named __proto__, bodies nested 10,000 deep) and the sender's own
 * JSON.stringify is never what fails. Unit tests send them to the router with
 * a fake sidecar, the integration test through the real daprd.
 */
export type PayloadClass =
  | 'wrong type'
  | 'missing fields'
  | 'extra fields'
  | 'huge'
  | 'deep'
  | 'unicode'
  | 'dates'
  | 'unknown task'
  | 'seq'
  | 'attributes';

export interface Hostile {
  name: string;
  class: PayloadClass;
  /** The payload as JSON text. */
  json: string;
}

/** A CloudEvent's attributes as JSON texts (`"x"` for a string), `data` left to the caller. */
export interface HostileEnvelope {
  name: string;
  class: PayloadClass;
  attributes: Record<string, string>;
  /**
   * Sent on its own. daprd 1.18 with bulk subscribe takes an expired event
   * (or one it cannot read) out of a bulk's messages but not out of its index
   * of them: when the app drops a later entry of that bulk, daprd sends the
   * wrong message to the dead-letter topic or, past the end, crashes.
   */
  alone?: true;
}

export interface HostileOptions {
  /** Size of the huge strings; the integration test keeps a message under Kafka's 1 MB. */
  hugeChars?: number;
  /** Depth of the deeply nested bodies. */
  depth?: number;
}

const json = JSON.stringify;

/** Dates at the edges, valid and not, for every date field and the CloudEvent `time`. */
export const edgeDates = [
  '0000-01-01T00:00:00Z',
  '0001-01-01T00:00:00Z',
  '0000-02-29T00:00:00+23:59',
  '9999-12-31T23:59:59.999Z',
  '9999-12-31T23:59:59-23:59',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
  '2016-12-31T23:59:60Z',
  '2026-02-29T00:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-01-01T00:00:00.1234567891234Z',
  '2026-01-01T00:00:00+02',
  '1970-01-01T00:00:00-00:00',
  '2026-01-01',
  'not a date',
  '',
];

/** A random v4-looking UUID from the PRNG: a task id no one created. */
export function uuid(random: Random): string {
  const hex = (n: number) => Array.from({ length: n }, () => random.int(0, 15).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${random.pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
}

const codePointRanges: Array<[number, number]> = [
  [0x20, 0x7e], // ASCII
  [0x00, 0x1f], // controls, NUL included
  [0xa0, 0xff], // Latin-1
  [0x0590, 0x05ff], // Hebrew (RTL)
  [0x0600, 0x06ff], // Arabic (RTL)
  [0x202a, 0x202e], // bidi embeddings and overrides
  [0x0300, 0x036f], // combining marks
  [0x4e00, 0x9fff], // CJK
  [0x1f300, 0x1faff], // emoji (astral: surrogate pairs)
  [0xd800, 0xdfff], // lone surrogates
  [0xfff0, 0xffff], // specials and noncharacters
];

/** A string of `length` code points from every corner of Unicode, lone surrogates and NUL included. */
export function unicodeString(random: Random, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) {
    const [low, high] = random.pick(codePointRanges);
    text += String.fromCodePoint(random.int(low, high));
  }
  return text;
}

const fixedUnicode = [
  ['lone high surrogate', '\ud800'],
  ['lone low surrogate', 'x\udfffy'],
  ['reversed surrogate pair', '\ude00\ud83d'],
  ['NUL', 'a\u0000b'],
  ['RTL override', '\u202edlrow olleh\u202c'],
  ['emoji ZWJ sequence', '👩‍👩‍👧‍👦🏳️‍🌈'],
  ['BOM and line separators', '\ufeff\u2028\u2029'],
  ['stacked combining marks', `e${'\u0301'.repeat(500)}`],
] as const;

/** A task snapshot that passes the Task schema, with `changes` on top. */
export function taskLike(random: Random, changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: uuid(random),
    title: `fuzz ${random.int(0, 1e6)}`,
    status: random.pick(['open', 'done']),
    priority: random.pick(['low', 'medium', 'high']),
    tags: [],
    createdAt: '2026-11-27T09:00:00.000Z',
    updatedAt: '2026-11-27T09:00:00.000Z',
    ...changes,
  };
}

const nested = (depth: number, open: string, close: string, leaf = '0') =>
  `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;

/**
 * Data payloads: what a `data` attribute (or a raw body) may hold. Valid-looking
 * ones are about tasks that do not exist.
 */
export function hostileData(random: Random, options: HostileOptions = {}): Hostile[] {
  const { hugeChars = 900_000, depth = 10_000 } = options;
  const task = (changes: Record<string, unknown> = {}) => taskLike(random, changes);
  const out: Hostile[] = [];
  const add = (cls: PayloadClass, name: string, text: string) => out.push({ name, class: cls, json: text });

  for (const value of ['0', '-1', '1e308', '3.14', 'true', 'false', 'null', '""', '"a string"', '[]', '{}'])
    add('wrong type', `data ${value}`, value);
  add('wrong type', 'an array of tasks', json([task(), task()]));
  add('wrong type', 'a task as a JSON string', json(json(task())));
  add('wrong type', 'title a number', json(task({ title: random.int(-1e9, 1e9) })));
  add('wrong type', 'tags a string', json(task({ tags: 'x' })));
  add('wrong type', 'id not a UUID', json(task({ id: String(random.int(0, 1e9)) })));
  add('wrong type', 'status unknown', json(task({ status: 'archived' })));
  add('wrong type', 'dates as epoch numbers', json(task({ createdAt: 1_700_000_000_000 })));

  const full = task();
  const fields = Object.keys(full);
  for (let i = 0; i < 3; i++) {
    const drop = random.pick(fields);
    const { [drop]: _, ...rest } = full;
    add('missing fields', `task without ${drop}`, json(rest));
  }
  add('missing fields', 'a deletion without deletedAt', json({ id: uuid(random) }));

  add('extra fields', 'task with an unknown field', json({ ...task(), owner: 'mallory' }));
  add('extra fields', 'a key named __proto__', `{"__proto__":{"polluted":true},${json(task()).slice(1)}`);
  add('extra fields', 'a key named constructor', `{"constructor":{"prototype":{"polluted":true}},"id":"x"}`);
  add(
    'extra fields',
    'a deletion with extra fields',
    json({ id: uuid(random), deletedAt: '2026-11-27T09:00:00Z', reason: 'x' }),
  );

  add('huge', `title of ${hugeChars} chars`, json(task({ title: 'x'.repeat(hugeChars) })));
  // About hugeChars bytes as UTF-8 whichever is picked: 'é' takes two.
  const [char, width] = random.pick([
    ['é', 2],
    ['x', 1],
    ['7', 1],
  ] as const);
  add('huge', `a string of ${hugeChars} bytes of ${char}`, json(char.repeat(hugeChars / width)));
  add('huge', '50,000 tags', json(task({ tags: Array.from({ length: 50_000 }, (_, n) => `t${n}`) })));
  add(
    'huge',
    'an object of 20,000 keys',
    `{${Array.from({ length: 20_000 }, (_, n) => `"k${n}":${n}`).join(',')}}`,
  );

  add('deep', `arrays nested ${depth} deep`, nested(depth, '[', ']'));
  add('deep', `objects nested ${depth} deep`, nested(depth, '{"a":', '}'));
  add(
    'deep',
    'a task with data nested 1,000 deep',
    json(task()).replace('"tags":[]', `"tags":${nested(1000, '[', ']')}`),
  );

  for (const [name, text] of fixedUnicode) add('unicode', `title: ${name}`, json(task({ title: text })));
  add('unicode', 'title of random code points', json(task({ title: unicodeString(random, 150) })));
  add(
    'unicode',
    'tags in many scripts',
    json(task({ tags: ['ñandú', 'עברית', 'العربية', '漢字', 'e\u0301'] })),
  );
  add(
    'unicode',
    'description of random code points',
    json(task({ description: unicodeString(random, 3000) })),
  );

  for (let i = 0; i < 6; i++) {
    const field = random.pick(['dueAt', 'remindAt', 'createdAt', 'updatedAt', 'completedAt']);
    const date = random.pick(edgeDates);
    add('dates', `${field} ${json(date)}`, json(task({ status: 'open', [field]: date })));
  }
  const soon = new Date(Date.now() + 1000).toISOString();
  add(
    'dates',
    'remindAt in year 9999',
    json(task({ status: 'open', remindAt: '9999-12-31T23:59:59-23:59' })),
  );
  add('dates', 'remindAt year 0000', json(task({ status: 'open', remindAt: '0000-01-01T00:00:00Z' })));
  add('dates', 'remindAt in a second', json(task({ status: 'open', remindAt: soon })));
  add('dates', 'dueAt in year 0000', json(task({ status: 'open', dueAt: '0000-02-29T00:00:00+23:59' })));
  add('dates', 'dueAt in year 9999', json(task({ status: 'open', dueAt: '9999-12-31T23:59:59.999Z' })));
  add('dates', 'deletedAt at the edge', json({ id: uuid(random), deletedAt: '9999-12-31T23:59:59-23:59' }));

  add('unknown task', 'a task no one created', json(task()));
  add('unknown task', 'a deletion of a task no one created', json({ id: uuid(random), deletedAt: soon }));
  return out;
}

/** CloudEvent attribute sets: odd, missing, spoofed or huge; `type` is a task event type unless said. */
export function hostileEnvelopes(random: Random, options: HostileOptions = {}): HostileEnvelope[] {
  const { hugeChars = 900_000 } = options;
  const type = () => json(random.pick(taskEventTypes));
  const out: HostileEnvelope[] = [];
  const add = (cls: PayloadClass, name: string, attributes: Record<string, string>, alone?: true) =>
    out.push({ name, class: cls, attributes: { type: type(), ...attributes }, ...(alone ? { alone } : {}) });

  for (const seq of [
    '"1e400"',
    '"99999999999999999999"',
    '"-1"',
    '"NaN"',
    '"0x10"',
    '1e308',
    '"9007199254740993"',
  ])
    add('seq', `seq ${seq}`, { seq });
  const unique = () => random.int(0, 1e9);
  add('attributes', 'id with NUL, RTL and emoji', { id: json(`fuzz\u0000\u202e🙂${unique()}`) });
  add('attributes', 'id with path characters', { id: json(`../a/b?c=d#e%2F${unique()}`) });
  add('attributes', 'id of 4,000 chars', { id: json(`${'i'.repeat(4000)}${unique()}`) });
  add('attributes', 'specversion 0.3', { specversion: '"0.3"' });
  add('attributes', 'specversion 2.0', { specversion: '"2.0"' });
  add('attributes', 'specversion a number', { specversion: '1' });
  add('attributes', 'type unknown', { type: '"task.exploded"' });
  add('attributes', 'type empty', { type: '""' });
  add('attributes', 'type a number', { type: '42' });
  add('attributes', 'type an object', { type: '{"a":1}' });
  add('attributes', 'source a number', { source: '7' });
  add('attributes', 'source empty', { source: '""' });
  add('attributes', 'subject a number', { subject: '12' });
  add('attributes', 'subject an array', { subject: '["a"]' });
  add('attributes', 'subject of random code points', { subject: json(unicodeString(random, 40)) });
  add('attributes', 'type of random code points', { type: json(unicodeString(random, 40)) });
  add('attributes', 'huge type', { type: json('t'.repeat(Math.min(hugeChars, 100_000))) });
  add('attributes', 'huge subject', { subject: json('s'.repeat(Math.min(hugeChars, 100_000))) });
  add('attributes', 'datacontenttype text/plain', { datacontenttype: '"text/plain"' });
  add('attributes', 'datacontenttype xml', { datacontenttype: '"application/xml"' });
  add('attributes', 'data_base64 garbage', { data_base64: '"!!not base64!!"' });
  add('attributes', 'data_base64 of a task', { data_base64: json(btoa(json(taskLike(random)))) });
  add('attributes', 'traceparent garbage', { traceparent: '"00-zz-zz-zz"' });
  add('attributes', 'topic and pubsubname spoofed', { topic: '"elsewhere"', pubsubname: '"nope"' });
  add('attributes', 'expired', { expiration: '"2000-01-01T00:00:00Z"' }, true);
  add('attributes', '500 extension attributes', {
    ...Object.fromEntries(Array.from({ length: 500 }, (_, n) => [`ext${n}`, json(`v${n}`)])),
  });
  add('attributes', 'extension names with odd characters', { 'Weird-Name': '"x"', ünï: '"y"', '': '"z"' });
  for (const time of edgeDates.slice(0, 8)) add('dates', `time ${json(time)}`, { time: json(time) });
  add('dates', 'time a number', { time: '0' });
  return out;
}

/** A CloudEvent as JSON text: the spec's required attributes, `attributes` over them, then `data`. */
export function envelopeJson(id: string, attributes: Record<string, string>, data?: string): string {
  const all: Record<string, string> = {
    specversion: '"1.0"',
    id: json(id),
    source: '"event-fuzz"',
    type: '"task.updated"',
    datacontenttype: '"application/json"',
    ...attributes,
  };
  const members = Object.entries(all).map(([key, value]) => `${json(key)}:${value}`);
  if (data !== undefined && !('data' in attributes) && !('data_base64' in attributes))
    members.push(`"data":${data}`);
  return `{${members.join(',')}}`;
}

/** Job data: the reminder shape with hostile values, and every data payload as it is. */
export function hostileJobData(random: Random, options: HostileOptions = {}): Hostile[] {
  const reminder = (changes: Record<string, unknown>) =>
    json({
      taskId: uuid(random),
      remindAt: '2026-11-27T12:00:00Z',
      version: '2026-11-27T09:00:00Z',
      ...changes,
    });
  const out: Hostile[] = hostileData(random, options);
  out.push({ name: 'a reminder of a task no one created', class: 'unknown task', json: reminder({}) });
  for (const date of edgeDates.slice(0, 7))
    out.push({ name: `remindAt ${json(date)}`, class: 'dates', json: reminder({ remindAt: date }) });
  out.push({ name: 'reminder with an extra field', class: 'extra fields', json: reminder({ x: 1 }) });
  out.push({ name: 'reminder taskId a number', class: 'wrong type', json: reminder({ taskId: 7 }) });
  return out;
}

/** Bodies of an input binding's POST: any JSON, and text that is not JSON, with its content type. */
export function hostileBindingBodies(
  random: Random,
  options: HostileOptions = {},
): Array<Hostile & { contentType: string }> {
  const asJson = hostileData(random, options)
    .filter((_, n) => n % 3 === 0)
    .map((payload) => ({ ...payload, contentType: 'application/json' }));
  return [
    ...asJson,
    { name: 'empty body', class: 'missing fields', json: '', contentType: 'application/json' },
    { name: 'not JSON', class: 'wrong type', json: '{"a":', contentType: 'application/json' },
    { name: 'text', class: 'wrong type', json: unicodeString(random, 200), contentType: 'text/plain' },
    {
      name: 'bytes as octet-stream',
      class: 'wrong type',
      json: '\u00ff\u00fe',
      contentType: 'application/octet-stream',
    },
  ];
}
