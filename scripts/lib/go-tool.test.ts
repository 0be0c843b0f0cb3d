import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { goToolBinary } from './go-tool.ts';

describe('goToolBinary', () => {
  const cleanup: string[] = [];
  afterAll(async () => {
    for (const path of cleanup) await rm(path, { recursive: true, force: true });
  });

  // Two kustomize builds in one Promise.all each started the same go build into the same partial
  // file: the second rename failed with ENOENT (the cluster tests' first run on a cold cache).
  it('builds once for callers at the same time, and each gets the binary', async () => {
    const module = await mkdtemp(join(tmpdir(), 'go-tool-'));
    cleanup.push(module);
    await writeFile(join(module, 'go.mod'), 'module example.com/hello\n\ngo 1.26\n');
    await writeFile(join(module, 'main.go'), 'package main\n\nfunc main() {}\n');
    const lines: string[] = [];
    const tool = {
      dir: module,
      // A name of its own, so that no earlier run's binary is found in the cache.
      name: `go-tool-test-${randomBytes(6).toString('hex')}`,
      target: '.',
      files: ['go.mod', 'main.go'],
      log: (line: string) => lines.push(line),
    };
    const [first, second] = await Promise.all([goToolBinary(tool), goToolBinary(tool)]);
    cleanup.push(first);
    expect(second).toBe(first);
    expect(existsSync(first)).toBe(true);
    expect(lines.filter((line) => line.startsWith('built '))).toHaveLength(1);
    // Built once, found after.
    expect(await goToolBinary(tool)).toBe(first);
    expect(lines.filter((line) => line.startsWith('built '))).toHaveLength(1);
  }, 120_000);
});
