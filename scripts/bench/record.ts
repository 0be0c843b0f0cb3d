/**
 * A task record of the shape the app stores (the task, its revision and its
 * write's event; tasks/task-store.ts), for the floors of the routes
 * benchmark, so that the store handles values alike in size and shape.
 */
export function taskRecord(id: string, revision: number, fields: Record<string, unknown>) {
  const at = new Date().toISOString();
  const task = { id, status: 'open', priority: 'medium', tags: [], ...fields, createdAt: at, updatedAt: at };
  const type = revision === 1 ? 'task.created' : 'task.updated';
  const event = { id: `${id}:${revision}`, type, subject: id, time: at, seq: revision, data: task };
  return { task, value: { revision, task, outbox: [event] } };
}

/** The body of daprd's state transaction that upserts one key: what the floor of a write costs. */
export const upsertTransaction = (key: string, value: unknown) => ({
  operations: [{ operation: 'upsert', request: { key, value } }],
});
