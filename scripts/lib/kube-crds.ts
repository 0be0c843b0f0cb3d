import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocuments } from '../../deploy/manifests.ts';
import { goModuleDir } from './kube-binaries.ts';
import type { KubeClient, KubeObject } from './kube-client.ts';
import { waitFor } from './processes.ts';

/**
 * The CustomResourceDefinitions of KEDA and of Dapr, read at run time from
 * the modules tools/keda and tools/dapr pin, in the Go module cache: the
 * versions this project builds, never copies in the repository.
 */

async function crdsIn(dir: string, where: string): Promise<KubeObject[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.yaml')).sort();
  const crds: KubeObject[] = [];
  for (const file of files)
    for (const doc of parseDocuments(await readFile(join(dir, file), 'utf8'), `${where}/${file}`))
      if (doc.kind === 'CustomResourceDefinition') crds.push(doc as KubeObject);
  if (crds.length === 0) throw new Error(`no CustomResourceDefinition in ${dir}`);
  return crds;
}

/** KEDA's (ScaledObject, ScaledJob, TriggerAuthentication, ClusterTriggerAuthentication, CloudEventSource…): config/crd/bases. */
export async function kedaCrds(): Promise<KubeObject[]> {
  const dir = join(await goModuleDir('keda', 'github.com/kedacore/keda/v2'), 'config', 'crd', 'bases');
  return crdsIn(dir, 'keda config/crd/bases');
}

/**
 * Dapr's (Component, Configuration, Resiliency, Subscription, HTTPEndpoint…):
 * the Helm chart's crds/, plain YAML, not templates. Subscription's names a
 * conversion webhook in a namespace `replaceme`, which the chart's
 * post-install job patches; unused while no Subscription is stored in a
 * version other than the one asked for.
 */
export async function daprCrds(): Promise<KubeObject[]> {
  const dir = join(await goModuleDir('dapr', 'github.com/dapr/dapr'), 'charts', 'dapr', 'crds');
  return crdsIn(dir, 'dapr charts/dapr/crds');
}

interface Condition {
  type: string;
  status: string;
}

/** Applies `crds` and waits until the API server serves each (condition Established). */
export async function installCrds(client: KubeClient, crds: readonly KubeObject[]): Promise<void> {
  await client.apply(crds);
  for (const crd of crds)
    await waitFor(
      `CustomResourceDefinition ${crd.metadata.name} established`,
      async () => {
        const stored = await client.get(crd.apiVersion, crd.kind, crd.metadata.name);
        const conditions = (stored?.status as { conditions?: Condition[] } | undefined)?.conditions ?? [];
        return conditions.some((c) => c.type === 'Established' && c.status === 'True');
      },
      { timeoutMs: 30_000 },
    );
}
