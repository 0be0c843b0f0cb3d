import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { goToolBinary } from './go-tool.ts';

const run = promisify(execFile);

/**
 * A `kustomize build` for the manifest tests: tools/kustomize wraps the
 * kustomize API (sigs.k8s.io/kustomize/api) in a small command, built from
 * the module proxy on first use (about 20 s).
 */
export function kustomizeBinary(): Promise<string> {
  return goToolBinary({
    dir: 'kustomize',
    name: 'kustomize-build',
    target: '.',
    files: ['go.mod', 'go.sum', 'main.go'],
  });
}

/** The rendered resources of a kustomization directory, as one multi-document YAML string. */
export async function kustomizeBuild(directory: string): Promise<string> {
  const { stdout } = await run(await kustomizeBinary(), [directory], { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}
