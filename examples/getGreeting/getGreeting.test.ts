import { describe, expect, it } from 'vitest';
import { createTestApp } from '../../shared/testing.ts';
import { greetingApp } from '../app.ts';
import { greet } from '../greet/index.ts';
import { getGreeting } from './index.ts';

describe('getGreeting', () => {
  it('returns the greeting greet saved', async () => {
    const { call } = createTestApp(greetingApp, [greet, getGreeting]);
    const created = await (await call('POST', '/greetings', { name: 'Ada' })).json();
    const response = await call('GET', `/greetings/${created.id}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(created);
  });

  it('404s a greeting that does not exist, 400s an id that is not a UUID, both as problem details', async () => {
    const { call } = createTestApp(greetingApp, [getGreeting]);
    const missing = await call('GET', '/greetings/6d1f3e43-5e0b-4a4b-9a53-111111111111');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'No greeting has the id 6d1f3e43-5e0b-4a4b-9a53-111111111111.',
      instance: '/greetings/6d1f3e43-5e0b-4a4b-9a53-111111111111',
    });
    const invalid = await call('GET', '/greetings/not-a-uuid');
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toBe('application/problem+json');
  });
});
