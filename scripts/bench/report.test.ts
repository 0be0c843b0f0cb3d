import { describe, expect, it } from 'vitest';
import { beginMarker, endMarker, formatSection, markdownTable, mergeBlocks } from './report.ts';

describe('markdownTable', () => {
  it('pads the columns and escapes pipes', () => {
    expect(markdownTable({ columns: ['a', 'bb'], rows: [['x|y', '1']] })).toBe(
      ['| a    | bb  |', '| ---- | --- |', '| x\\|y | 1   |'].join('\n'),
    );
  });
});

describe('formatSection', () => {
  it('puts the title above and the notes below the table', () => {
    const text = formatSection({ title: 'T', columns: ['c'], rows: [['v']], notes: ['a note'] });
    expect(text.split('\n')[0]).toBe('### T');
    expect(text.endsWith('- a note')).toBe(true);
  });
});

describe('mergeBlocks', () => {
  const doc = [
    '# Performance',
    'prose before',
    beginMarker('embedded'),
    'old embedded',
    endMarker,
    'prose between',
    beginMarker('redis-kafka'),
    'old redis',
    endMarker,
    'prose after',
    '',
  ].join('\n');

  it('replaces only the blocks of the profiles given, keeping every line outside the markers', () => {
    const merged = mergeBlocks(doc, new Map([['redis-kafka', 'new redis']]));
    expect(merged).toContain('old embedded');
    expect(merged).toContain(`${beginMarker('redis-kafka')}\nnew redis\n${endMarker}`);
    expect(merged).not.toContain('old redis');
    for (const prose of ['prose before', 'prose between', 'prose after']) expect(merged).toContain(prose);
  });

  it('appends a profile that has no block yet', () => {
    const merged = mergeBlocks(doc, new Map([['postgres-kafka', 'pg']]));
    expect(merged.endsWith(`${beginMarker('postgres-kafka')}\npg\n${endMarker}\n`)).toBe(true);
    expect(merged.startsWith(doc.trimEnd())).toBe(true);
  });

  it('is stable: merging the same block twice gives the same document', () => {
    const once = mergeBlocks(doc, new Map([['embedded', 'e']]));
    expect(mergeBlocks(once, new Map([['embedded', 'e']]))).toBe(once);
  });

  it('refuses a block without its end marker', () => {
    expect(() => mergeBlocks(beginMarker('embedded'), new Map([['embedded', 'x']]))).toThrow(/bench:end/);
  });
});
