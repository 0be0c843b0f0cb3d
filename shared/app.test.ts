import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allFunctionsOf, selectFunctions } from './app.ts';
import { defineFunction } from './function.ts';

const job = (name: string) =>
  defineFunction({
    name,
    trigger: { kind: 'job', prefix: `${name}-`, data: z.unknown() },
    handler: async () => {},
  });
const [a, b, c] = [job('a'), job('b'), job('c')];
const apps = { one: [a, b], two: [b, c] };

describe('an app table', () => {
  it('lists every function once, in the order of its first entry', () => {
    expect(allFunctionsOf(apps)).toEqual([a, b, c]);
  });

  it('selects an app, a single function, or all; nothing for any other name', () => {
    expect(selectFunctions(apps, 'two')).toEqual([b, c]);
    expect(selectFunctions(apps, 'c')).toEqual([c]);
    expect(selectFunctions(apps, 'all')).toEqual([a, b, c]);
    expect(selectFunctions(apps, 'd')).toBeUndefined();
    expect(selectFunctions(apps, 'toString')).toBeUndefined();
  });
});
