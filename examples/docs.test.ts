import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { triggerKinds } from '../shared/function.ts';
import { apps } from './apps.ts';

/**
 * docs/FUNCTIONS.md shows the example's real files: a code block after a line
 * `<!-- file: <path> -->` is that whole file, one after `<!-- excerpt: <path> -->`
 * a part of it, to the letter. This reads the page and compares.
 */
const root = resolve(import.meta.dirname, '..');
const page = 'docs/FUNCTIONS.md';

interface Block {
  kind: 'file' | 'excerpt';
  path: string;
  /** The page's line the marker is on. */
  line: number;
  code: string | undefined;
}

/** The marked code blocks of a page; `code` is undefined when no fenced block follows the marker. */
function markedBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (const [i, text] of lines.entries()) {
    const marker = /^<!-- (file|excerpt): (\S+) -->$/.exec(text);
    if (!marker) continue;
    const fence = /^(`{3,})\w*$/.exec(lines[i + 1] ?? '')?.[1];
    const end = fence ? lines.indexOf(fence, i + 2) : -1;
    blocks.push({
      kind: marker[1] as Block['kind'],
      path: marker[2] as string,
      line: i + 1,
      code: end > 0 ? `${lines.slice(i + 2, end).join('\n')}\n` : undefined,
    });
  }
  return blocks;
}

/** What is wrong with each block against the files under `base`, as `line: path: what`. */
function staleBlocks(blocks: Block[], base: string): string[] {
  return blocks.flatMap(({ kind, path, line, code }) => {
    const where = `${page}:${line}: ${path}`;
    if (code === undefined) return [`${where}: no code block follows the marker`];
    if (!existsSync(join(base, path))) return [`${where}: no such file`];
    const text = readFileSync(join(base, path), 'utf8');
    if (kind === 'file' && text !== code) return [`${where}: the block is not the file`];
    if (kind === 'excerpt' && !text.includes(code)) return [`${where}: the block is not in the file`];
    return [];
  });
}

describe(page, () => {
  const blocks = markedBlocks(readFileSync(join(root, page), 'utf8'));
  const shown = new Set(blocks.filter((b) => b.kind === 'file').map((b) => b.path));

  it('shows each marked file as it is', () => {
    expect(blocks.length).toBeGreaterThan(10);
    expect(staleBlocks(blocks, root)).toEqual([]);
  });

  it('shows, for each trigger kind, a whole function of the example and its test, and the app they make', () => {
    const functions = Object.values(apps).flat();
    for (const kind of triggerKinds) {
      const complete = functions.filter(
        (fn) =>
          fn.trigger.kind === kind &&
          shown.has(`examples/${fn.name}/index.ts`) &&
          shown.has(`examples/${fn.name}/${fn.name}.test.ts`),
      );
      expect(complete.length, kind).toBeGreaterThan(0);
    }
    for (const file of ['examples/app.ts', 'examples/greetings.ts', 'examples/apps.ts', 'examples/main.ts'])
      expect(shown, file).toContain(file);
  });

  it('finds a block that differs, one that is not in its file, and a marker without a block', () => {
    const markdown = [
      '<!-- file: examples/main.ts -->',
      '```ts',
      'serve();',
      '```',
      '<!-- excerpt: examples/apps.ts -->',
      '```ts',
      "  'greetings-api': [greet],",
      '```',
      '<!-- excerpt: examples/apps.ts -->',
      'prose',
    ].join('\n');
    expect(staleBlocks(markedBlocks(markdown), root)).toEqual([
      `${page}:1: examples/main.ts: the block is not the file`,
      `${page}:5: examples/apps.ts: the block is not in the file`,
      `${page}:9: examples/apps.ts: no code block follows the marker`,
    ]);
  });
});
