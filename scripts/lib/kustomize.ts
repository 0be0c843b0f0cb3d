import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const module = resolve(import.meta.dirname, '../../tools/kustomize');

/**
 * A `kustomize build` for the manifest tests: tools/kustomize wraps the
 * kustomize API (sigs.k8s.io/kustomize/api) in a small command, built with
 * the Go toolchain from the module proxy into ~/.cache on first use (about
 * 20 s) and rebuilt when its sources change.
 */
export async function kustomizeBinary(): Promise<string> {
  const digest = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) digest.update(readFileSync(join(module, file)));
  const dir = join(homedir(), '.cache', 'tasks-on-dapr', 'bin');
  const binary = join(dir, `kustomize-build-${digest.digest('hex').slice(0, 12)}`);
  if (existsSync(binary)) return binary;
  await mkdir(dir, { recursive: true });
  const partial = `${binary}.partial-${process.pid}`;
  await run('go', ['build', '-mod=readonly', '-trimpath', '-o', partial, '.'], {
    cwd: module,
    timeout: 600_000,
  });
  await rename(partial, binary);
  return binary;
}

/** The rendered resources of a kustomization directory, as one multi-document YAML string. */
export async function kustomizeBuild(directory: string): Promise<string> {
  const { stdout } = await run(await kustomizeBinary(), [directory], { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}
