const id = '6d1f3e43-5e0b-4a4b-9a53-111111111111';

/**
 * Bad requests and the status each must get (400 unless given); none may be
 * a 500 or leave anything written. Unit tests send them to the router with a
 * fake sidecar, integration tests to the running app.
 */
export const badRequests: Array<
  [
    name: string,
    method: string,
    path: string,
    body: unknown,
    headers?: Record<string, string>,
    status?: number,
  ]
> = [
  ['empty title', 'POST', '/tasks', { title: '' }],
  ['blank title', 'POST', '/tasks', { title: '   ' }],
  ['title too long', 'POST', '/tasks', { title: 'x'.repeat(201) }],
  ['missing title', 'POST', '/tasks', { priority: 'low' }],
  ['title not a string', 'POST', '/tasks', { title: 42 }],
  ['unknown field', 'POST', '/tasks', { title: 'a', owner: 'me' }],
  ['bad priority', 'POST', '/tasks', { title: 'a', priority: 'urgent' }],
  ['dueAt not a date', 'POST', '/tasks', { title: 'a', dueAt: 'tomorrow' }],
  ['dueAt without offset', 'POST', '/tasks', { title: 'a', dueAt: '2026-12-01T10:00:00' }],
  ['tags not an array', 'POST', '/tasks', { title: 'a', tags: 'x' }],
  ['tag with a space', 'POST', '/tasks', { title: 'a', tags: ['two words'] }],
  ['too many tags', 'POST', '/tasks', { title: 'a', tags: Array.from({ length: 21 }, (_, n) => `t${n}`) }],
  ['body is an array', 'POST', '/tasks', [{ title: 'a' }]],
  ['body is null', 'POST', '/tasks', 'null'],
  ['malformed JSON', 'POST', '/tasks', '{"title":'],
  ['wrong content type', 'POST', '/tasks', 'title=a', { 'content-type': 'text/plain' }, 415],
  ['body too large', 'POST', '/tasks', { title: 'a', description: 'x'.repeat(70_000) }, {}, 413],
  ['empty PATCH', 'PATCH', `/tasks/${id}`, {}],
  ['PATCH unknown field', 'PATCH', `/tasks/${id}`, { status: 'done' }],
  ['PATCH null title', 'PATCH', `/tasks/${id}`, { title: null }],
  ['id not a UUID', 'GET', '/tasks/42', undefined],
  ['limit 0', 'GET', '/tasks?limit=0', undefined],
  ['limit too big', 'GET', '/tasks?limit=1000', undefined],
  ['limit not a number', 'GET', '/tasks?limit=ten', undefined],
  ['unknown status filter', 'GET', '/tasks?status=archived', undefined],
  ['dueBefore not a date', 'GET', '/tasks?dueBefore=soon', undefined],
  ['unknown query parameter', 'GET', '/tasks?sort=title', undefined],
  ['forged cursor', 'GET', '/tasks?cursor=eyJwIjotMX0', undefined],
];
