import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const tools = resolve(import.meta.dirname, '../../tools');

export interface GoTool {
  /** The wrapper module's folder under tools/. */
  dir: string;
  /** The binary's name in ~/.cache/tasks-on-dapr/bin (a digest of the module's files is added). */
  name: string;
  /** The package to build: `.` for the module's own main, or a path from its requirements. */
  target: string;
  /** The module's files whose contents decide when to rebuild. */
  files: string[];
  /** Said once before a build (which happens on first use and when the files change). */
  announce?: () => void;
}

/**
 * A Go program built with the Go toolchain from the module proxy, from a
 * small wrapper module in tools/, into ~/.cache/tasks-on-dapr/bin; rebuilt
 * only when the wrapper's files change. Nothing built is committed.
 */
export async function goToolBinary(tool: GoTool): Promise<string> {
  const module = join(tools, tool.dir);
  const digest = createHash('sha256');
  for (const file of tool.files) digest.update(readFileSync(join(module, file)));
  const dir = join(homedir(), '.cache', 'tasks-on-dapr', 'bin');
  const binary = join(dir, `${tool.name}-${digest.digest('hex').slice(0, 12)}`);
  if (existsSync(binary)) return binary;
  tool.announce?.();
  await mkdir(dir, { recursive: true });
  const partial = `${binary}.partial-${process.pid}`;
  await run('go', ['build', '-mod=readonly', '-trimpath', '-ldflags=-s -w', '-o', partial, tool.target], {
    cwd: module,
    timeout: 1_200_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  await rename(partial, binary);
  return binary;
}
