import { z } from '@hono/zod-openapi';
import { CURSOR_PATTERN } from './task-index.ts';

/**
 * The Task schemas: the single source of truth for the Task types, the
 * validation of every request body and stored record, and the OpenAPI document.
 */

export const TaskId = z
  .uuid()
  .openapi({ description: 'Task id (UUID)', example: '0f8fad5b-d9cb-469f-a165-70867728950e' });

export const TaskStatus = z.enum(['open', 'done']);
export const TaskPriority = z.enum(['low', 'medium', 'high']);

/** A stored instant: RFC 3339, in UTC (`2026-12-01T09:00:00.000Z`). */
const Instant = z.iso
  .datetime({ offset: true })
  .openapi({ description: 'RFC 3339 date-time in UTC', example: '2026-12-01T09:00:00.000Z' });

/**
 * An instant a client sends: RFC 3339 with upper-case `T` and `Z`, no leap
 * second (JavaScript's Date has none), in the years 1970 to 2999. The bound
 * keeps every date one the whole pipeline can hold: in UTC it stays a
 * four-digit year (9999-12-31T23:59-01:00 would be year 10000), and a due
 * date more than daprd's 32-bit TTL ahead is indexed without one.
 */
const YEAR = '(?:19[7-9][0-9]|2[0-9]{3})';
/** The leap years among them: 1972..1996, then every fourth but 2100, 2200, 2300, 2500, 2600, 2700, 2900. */
const LEAP_YEAR = '(?:19(?:7[26]|8[048]|9[26])|2[0-9](?:0[48]|[2468][048]|[13579][26])|2[048]00)';
const MONTH_DAY =
  '(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))';
/** The whole rule in the pattern, month lengths and leap days included, for validators that skip `format`. */
export const INSTANT_PATTERN = `^(?:${YEAR}-${MONTH_DAY}|${LEAP_YEAR}-02-29)T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]+)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$`;
const InstantInput = z.iso
  .datetime({ offset: true })
  .regex(
    new RegExp(INSTANT_PATTERN),
    'must be an RFC 3339 date-time (upper-case T and Z) in the years 1970 to 2999',
  )
  .openapi({
    description: 'RFC 3339 date-time, years 1970 to 2999; stored in UTC',
    example: '2026-12-01T09:00:00Z',
    pattern: INSTANT_PATTERN,
  });

/**
 * A string of `min` to `max` characters (code points, as JSON Schema counts
 * them, and as zod does) and an optional pattern, written the same for the
 * server and the document: plain ECMA-262 syntax with no flags, so every
 * client's validator reads it alike (the server compiles it with `u`).
 */
function text(min: number, max: number, pattern?: { source: string; message: string }) {
  // A value of the wrong length is not also checked (nor reported) against the pattern.
  const sized = z.string().min(min, { abort: true }).max(max, { abort: true });
  if (!pattern) return sized;
  return sized.regex(new RegExp(pattern.source, 'u'), pattern.message).openapi({ pattern: pattern.source });
}

/**
 * What String.prototype.trim removes, spelt out: `\s` differs between regex
 * dialects (Python's has U+001C..U+001F and not U+FEFF), this class does not.
 */
const SPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
/** A title has a character that is not space; it is stored trimmed. */
const Title = text(1, 200, { source: `[^${SPACE}]`, message: 'must have a character that is not a space' });
const Description = text(0, 4000);
/**
 * A tag is any characters but spaces and control characters. Not `\p{L}`:
 * validators outside JavaScript approximate property escapes (Schemathesis
 * reads `\p{L}` as Latin letters only and flagged a stored tag `仕事`).
 */
const Tag = text(1, 50, {
  source: `^[^${SPACE}\\u0000-\\u001f\\u007f-\\u009f]+$`,
  message: 'tags have no spaces or control characters',
});
const Tags = z.array(Tag).max(20);

export const Task = z
  .strictObject({
    id: TaskId,
    title: Title,
    description: Description.optional(),
    status: TaskStatus,
    priority: TaskPriority,
    dueAt: Instant.optional(),
    remindAt: Instant.optional(),
    tags: Tags,
    createdAt: Instant,
    updatedAt: Instant,
    completedAt: Instant.optional(),
  })
  .openapi('Task');
export type Task = z.infer<typeof Task>;

export const CreateTaskBody = z
  .strictObject({
    title: Title,
    description: Description.optional(),
    priority: TaskPriority.default('medium'),
    dueAt: InstantInput.optional(),
    remindAt: InstantInput.optional(),
    tags: Tags.optional(),
  })
  .openapi('CreateTask');
export type CreateTaskBody = z.infer<typeof CreateTaskBody>;

/** `null` clears an optional field; absent fields stay as they are. */
export const UpdateTaskBody = z
  .strictObject({
    title: Title.optional(),
    description: Description.nullable().optional(),
    priority: TaskPriority.optional(),
    dueAt: InstantInput.nullable().optional(),
    remindAt: InstantInput.nullable().optional(),
    tags: Tags.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'the body must change at least one field')
  .openapi('UpdateTask', { minProperties: 1 });
export type UpdateTaskBody = z.infer<typeof UpdateTaskBody>;

export const TaskPage = z
  .object({
    items: z.array(Task),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: 'Pass as `cursor` for the next page; null at the end' }),
  })
  .openapi('TaskPage');

export const ListTasksQuery = z.strictObject({
  status: TaskStatus.optional(),
  tag: Tag.optional(),
  dueBefore: InstantInput.optional().openapi({ description: 'Only tasks due strictly before this instant' }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .regex(CURSOR_PATTERN)
    .optional()
    .openapi({ description: 'The `nextCursor` of the previous page' }),
});
export type ListTasksQuery = z.infer<typeof ListTasksQuery>;

export const TaskIdParams = z.strictObject({ id: TaskId.openapi({ param: { name: 'id', in: 'path' } }) });

function utc(instant: string): string {
  return new Date(instant).toISOString();
}

function uniqueTags(tags: readonly string[] | undefined): string[] {
  return [...new Set(tags ?? [])];
}

export function newTask(id: string, body: CreateTaskBody, now: Date): Task {
  const at = now.toISOString();
  return {
    id,
    title: body.title.trim(),
    ...(body.description === undefined ? {} : { description: body.description }),
    status: 'open',
    priority: body.priority,
    ...(body.dueAt === undefined ? {} : { dueAt: utc(body.dueAt) }),
    ...(body.remindAt === undefined ? {} : { remindAt: utc(body.remindAt) }),
    tags: uniqueTags(body.tags),
    createdAt: at,
    updatedAt: at,
  };
}

/** The task after a PATCH, or the same object when nothing would change. */
export function applyUpdate(task: Task, body: UpdateTaskBody, now: Date): Task {
  const next: Task = { ...task };
  if (body.title !== undefined) next.title = body.title.trim();
  if (body.priority !== undefined) next.priority = body.priority;
  if (body.tags !== undefined) next.tags = uniqueTags(body.tags);
  setOptional(next, 'description', body.description);
  setOptional(next, 'dueAt', body.dueAt === undefined || body.dueAt === null ? body.dueAt : utc(body.dueAt));
  setOptional(
    next,
    'remindAt',
    body.remindAt === undefined || body.remindAt === null ? body.remindAt : utc(body.remindAt),
  );
  if (JSON.stringify(next) === JSON.stringify(task)) return task;
  next.updatedAt = now.toISOString();
  return next;
}

export function completeTask(task: Task, now: Date): Task {
  if (task.status === 'done') return task;
  const at = now.toISOString();
  return { ...task, status: 'done', completedAt: at, updatedAt: at };
}

function setOptional(
  task: Task,
  field: 'description' | 'dueAt' | 'remindAt',
  value: string | null | undefined,
) {
  if (value === undefined) return;
  if (value === null) delete task[field];
  else task[field] = value;
}
