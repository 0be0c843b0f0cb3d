import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

/**
 * What the manifest tests (deploy/manifests.test.ts, observability/manifests.test.ts)
 * share: reading YAML files, and validating a document against the schema of
 * its apiVersion and kind (the Kubernetes and KEDA ones from kubernetes-models;
 * Dapr's resources and kustomize's Kustomization against the shapes below).
 */

// biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field by the tests
export type Manifest = any;

const DaprMetadataItem = z.union([
  z.strictObject({ name: z.string().min(1), value: z.string() }),
  z.strictObject({
    name: z.string().min(1),
    secretKeyRef: z.strictObject({ name: z.string(), key: z.string() }),
  }),
]);
const DaprObjectMeta = z.object({ name: z.string().min(1), namespace: z.string().optional() }).loose();
const DaprComponent = z.strictObject({
  apiVersion: z.literal('dapr.io/v1alpha1'),
  kind: z.literal('Component'),
  metadata: DaprObjectMeta,
  spec: z.strictObject({
    type: z.string().regex(/^(state|pubsub|bindings|secretstores)\.[\w.-]+$/),
    version: z.string().regex(/^v\d+$/),
    metadata: z.array(DaprMetadataItem).optional(),
    ignoreErrors: z.boolean().optional(),
    initTimeout: z.string().optional(),
  }),
  scopes: z.array(z.string()).optional(),
  auth: z.object({ secretStore: z.string() }).optional(),
});
const DaprConfiguration = z.object({
  apiVersion: z.literal('dapr.io/v1alpha1'),
  kind: z.literal('Configuration'),
  metadata: DaprObjectMeta,
  spec: z.object({}).loose(),
});
const DaprResiliency = z.object({
  apiVersion: z.literal('dapr.io/v1alpha1'),
  kind: z.literal('Resiliency'),
  metadata: DaprObjectMeta,
  spec: z.object({ policies: z.object({}).loose(), targets: z.object({}).loose() }),
  scopes: z.array(z.string()).optional(),
});
const Kustomization = z
  .object({ apiVersion: z.literal('kustomize.config.k8s.io/v1beta1'), kind: z.literal('Kustomization') })
  .loose();

const models: Record<string, (d: Manifest) => void> = {
  'apps/v1 Deployment': (d) => new Deployment(d).validate(),
  'v1 Service': (d) => new Service(d).validate(),
  'v1 Secret': (d) => new Secret(d).validate(),
  'v1 ConfigMap': (d) => new ConfigMap(d).validate(),
  'v1 ServiceAccount': (d) => new ServiceAccount(d).validate(),
  'rbac.authorization.k8s.io/v1 Role': (d) => new Role(d).validate(),
  'rbac.authorization.k8s.io/v1 RoleBinding': (d) => new RoleBinding(d).validate(),
  'rbac.authorization.k8s.io/v1 ClusterRole': (d) => new ClusterRole(d).validate(),
  'rbac.authorization.k8s.io/v1 ClusterRoleBinding': (d) => new ClusterRoleBinding(d).validate(),
  'keda.sh/v1alpha1 ScaledObject': (d) => new ScaledObject(d).validate(),
  'keda.sh/v1alpha1 TriggerAuthentication': (d) => new TriggerAuthentication(d).validate(),
  'dapr.io/v1alpha1 Component': (d) => DaprComponent.parse(d),
  'dapr.io/v1alpha1 Configuration': (d) => DaprConfiguration.parse(d),
  'dapr.io/v1alpha1 Resiliency': (d) => DaprResiliency.parse(d),
  'kustomize.config.k8s.io/v1beta1 Kustomization': (d) => Kustomization.parse(d),
};

/** Validates one document by its apiVersion and kind; an unknown kind is an error, not a pass. */
export function validate(doc: Manifest, where: string) {
  const kind = `${doc?.apiVersion} ${doc?.kind}`;
  const check = models[kind];
  if (!check) throw new Error(`${where}: no schema for ${kind}`);
  try {
    check(doc);
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
}

/** Whether a parsed YAML document is a Kubernetes-style resource (and not, say, a program's config file). */
export function isManifest(doc: Manifest): boolean {
  return typeof doc?.apiVersion === 'string' && typeof doc?.kind === 'string';
}

/** Every .yaml/.yml file under a directory, recursively. */
export function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

/** The documents of a multi-document YAML text; a syntax error is thrown with `where`. */
export function parseDocuments(text: string, where: string): Manifest[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${where}: ${doc.errors[0]?.message}`);
    const value = doc.toJS();
    return value === null ? [] : [value];
  });
}

/** A container's env as name → value (or the valueFrom object). */
export function containerEnv(container: Manifest): Record<string, Manifest> {
  return Object.fromEntries((container.env ?? []).map((e: Manifest) => [e.name, e.value ?? e.valueFrom]));
}

/** The entry `name` of a Dapr component's metadata. */
export function metadataItem(doc: Manifest, name: string): Manifest {
  return doc?.spec?.metadata?.find((m: { name: string }) => m.name === name);
}

/** A Kubernetes memory quantity (`256Mi`, `1Gi`) in MiB. */
export function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`${quantity}: a memory quantity in Mi or Gi expected`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

/** deploy/base's Deployment `app` (deploy/base/apps/<app>.yaml). */
function deployment(app: string): { file: string; deployment: Manifest } {
  const file = join(import.meta.dirname, 'base', 'apps', `${app}.yaml`);
  const found = parseDocuments(readFileSync(file, 'utf8'), file).find((doc) => doc.kind === 'Deployment');
  if (!found) throw new Error(`${file}: no Deployment`);
  return { file, deployment: found };
}

/**
 * The NODE_OPTIONS of the app container of deploy/base's Deployment `app`:
 * its V8 heap, sized for the container's memory limit. The benchmarks run
 * the app with them, so that its memory on a machine of many GiB is the pod's.
 */
export function deployedNodeOptions(app = 'tasks-api'): string {
  const { file, deployment: found } = deployment(app);
  const options = containerEnv(found.spec.template.spec.containers[0] ?? {}).NODE_OPTIONS;
  if (typeof options !== 'string') throw new Error(`${file}: the app container has no NODE_OPTIONS value`);
  return options;
}

/** The memory limits, in MiB, of the Deployment `app`'s app container and of its daprd (the sidecar annotation). */
export function deployedMemoryLimits(app = 'tasks-api'): { app: number; daprd: number } {
  const { deployment: found } = deployment(app);
  const template = found.spec.template;
  return {
    app: mebibytes(template.spec.containers[0]?.resources?.limits?.memory ?? ''),
    daprd: mebibytes(template.metadata?.annotations?.['dapr.io/sidecar-memory-limit'] ?? ''),
  };
}
