import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { apps } from '../apps.ts';
import { onTaskEvent } from '../functions/onTaskEvent/index.ts';
import { outboxSweep } from '../functions/outboxSweep/index.ts';
import { KAFKA_PARTITIONS } from '../scripts/lib/infra.ts';
import { kustomizeBuild } from '../scripts/lib/kustomize.ts';
import { projectRoot } from '../scripts/lib/stack.ts';
import { runtimeConfigSchema } from '../shared/config.ts';
import {
  containerEnv,
  deployedMemoryLimits,
  deployedNodeOptions,
  type Manifest,
  mebibytes,
  metadataItem,
  parseDocuments,
  validate,
  yamlFiles,
} from './manifests.ts';

/**
 * Every manifest in deploy/ and keda/ is validated against its schema (the
 * Kubernetes and KEDA ones from kubernetes-models; Dapr's resources against
 * the shapes in manifests.ts), the kustomizations are built with the kustomize API, and
 * the files are checked against each other and against the code: app-ids,
 * ports, probes, topic, consumer group, secret names.
 */

const files = ['deploy', 'keda'].flatMap((dir) => yamlFiles(join(projectRoot, dir)));
const appNames = Object.keys(apps);

describe('Kubernetes and KEDA manifests', () => {
  let rendered: Manifest[] = [];
  const find = (kind: string, name: string) =>
    rendered.find((doc) => doc.kind === kind && doc.metadata?.name === name);
  const component = (name: string) => find('Component', name);

  beforeAll(async () => {
    const overlay = parseDocuments(
      await kustomizeBuild(join(projectRoot, 'deploy', 'overlays', 'example')),
      'deploy/overlays/example',
    );
    const keda = parseDocuments(await kustomizeBuild(join(projectRoot, 'keda')), 'keda');
    rendered = [...overlay, ...keda];
  }, 180_000);

  it('finds manifests to check', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it.each(files.map((file) => [relative(projectRoot, file), file]))(
    '%s validates against its schemas',
    (name, file) => {
      const docs = parseDocuments(readFileSync(file, 'utf8'), name);
      expect(docs.length).toBeGreaterThan(0);
      for (const [index, doc] of docs.entries()) validate(doc, `${name} #${index + 1}`);
    },
  );

  it('builds with kustomize, and every rendered resource validates', () => {
    for (const doc of rendered) validate(doc, `rendered ${doc.kind}/${doc.metadata?.name}`);
    for (const doc of rendered.filter((d) => d.kind !== 'ScaledObject' && d.kind !== 'TriggerAuthentication'))
      expect(doc.metadata.namespace, `${doc.kind}/${doc.metadata.name}`).toBe('tasks');
  });

  it.each(appNames)('%s: Deployment, Dapr annotations, probes and security agree with the code', (app) => {
    const deployment = find('Deployment', app);
    expect(deployment, `Deployment ${app}`).toBeDefined();
    const pod = deployment.spec.template;
    const annotations = pod.metadata.annotations;
    const [container] = pod.spec.containers;
    const port = container.ports.find((p: { name: string }) => p.name === 'http');
    expect(annotations['dapr.io/enabled']).toBe('true');
    expect(annotations['dapr.io/app-id']).toBe(app);
    expect(annotations['dapr.io/app-port']).toBe(String(port.containerPort));
    expect(port.containerPort).toBe(runtimeConfigSchema.parse({ APP_API_TOKEN: 'x'.repeat(16) }).PORT);
    expect(annotations['dapr.io/app-health-check-path']).toBe('/healthz');
    expect(
      find('Configuration', annotations['dapr.io/config']),
      'the dapr.io/config Configuration',
    ).toBeDefined();
    expect(container.image).toMatch(new RegExp(`/${app}:[\\w.-]+$`));
    const env = containerEnv(container);
    expect(env.APP_ID).toBe(app);
    // daprd and the app must hold the same app API token: one Secret feeds both.
    expect(env.APP_API_TOKEN.secretKeyRef.name).toBe(annotations['dapr.io/app-token-secret']);
    expect(env.APP_API_TOKEN.secretKeyRef.key).toBe('token');
    expect(env.TASKS_API_APP_ID).toBe('tasks-api');
    expect(container.livenessProbe.httpGet).toMatchObject({ path: '/healthz' });
    expect(container.readinessProbe.httpGet).toMatchObject({ path: '/readyz' });
    expect(container.resources.requests).toBeDefined();
    // The heap fits the limit: an old generation of half of it, V8's semi-spaces as Node sizes them in such a cgroup.
    expect(env.NODE_OPTIONS).toBe(
      `--max-old-space-size=${mebibytes(container.resources.limits.memory) / 2} --max-semi-space-size=1`,
    );
    expect(deployedNodeOptions(app)).toBe(env.NODE_OPTIONS);
    expect(deployedMemoryLimits(app)).toEqual({
      app: mebibytes(container.resources.limits.memory),
      daprd: mebibytes(annotations['dapr.io/sidecar-memory-limit']),
    });
    expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('scopes each component to the apps that use it, and only to apps that exist', () => {
    const uses: Record<string, string[]> = {
      statestore: appNames,
      pubsub: appNames,
      secretstore: appNames,
      notifications: ['task-reminders'],
      'overdue-sweep': ['task-cron'],
      // The outbox's recovery runs beside the writer, tasks-api.
      'outbox-sweep': ['tasks-api'],
    };
    for (const [name, users] of Object.entries(uses)) {
      const doc = component(name);
      expect(doc, `Component ${name}`).toBeDefined();
      expect([...doc.scopes].sort()).toEqual([...users].sort());
    }
    for (const doc of rendered.filter((d) => d.scopes))
      for (const scope of doc.scopes)
        expect(appNames, `${doc.kind}/${doc.metadata.name} scope`).toContain(scope);
    // Several apps share the store: keys must not carry the app-id.
    expect(metadataItem(component('statestore'), 'keyPrefix')?.value).toBe('none');
    // The project's own outbox: daprd's (not crash-safe in 1.18) stays off.
    expect(metadataItem(component('statestore'), 'outboxPublishTopic')).toBeUndefined();
    expect(apps['tasks-api']).toContain(outboxSweep);
    expect(component(outboxSweep.trigger.binding)).toBeDefined();
  });

  it('service invocation targets agree: env, Resiliency and the apps that serve the routes', () => {
    const env = (app: string) =>
      Object.fromEntries(
        find('Deployment', app).spec.template.spec.containers[0].env.map((e: Manifest) => [e.name, e.value]),
      );
    // onTaskEvent (task-events) keeps reminder jobs through scheduleReminder, which lives beside reminderJob.
    const remindersApp = env('task-events').REMINDERS_APP_ID;
    const holder = Object.entries(apps).find(([, fns]) => fns.some((fn) => fn.name === 'scheduleReminder'));
    expect(remindersApp).toBe(holder?.[0]);
    expect(apps[remindersApp as keyof typeof apps].some((fn) => fn.name === 'reminderJob')).toBe(true);
    const resiliency = rendered.find((d) => d.kind === 'Resiliency');
    expect(Object.keys(resiliency.spec.targets.apps).sort()).toEqual(['task-reminders', 'tasks-api']);
    for (const app of Object.keys(resiliency.spec.targets.apps))
      expect(find('Deployment', app)).toBeDefined();
  });

  it('task-events scales on the lag of the Dapr consumer group, capped at the partition count', () => {
    const scaled = find('ScaledObject', 'task-events');
    const pubsub = component('pubsub');
    const [trigger] = scaled.spec.triggers;
    expect(scaled.spec.scaleTargetRef.name).toBe('task-events');
    expect(scaled.spec.minReplicaCount).toBe(0);
    expect(scaled.spec.maxReplicaCount).toBeLessThanOrEqual(KAFKA_PARTITIONS);
    expect(trigger.type).toBe('kafka');
    // The component names each app's group; daprd fills in {appID} with the app's id.
    const appId = find('Deployment', 'task-events').spec.template.metadata.annotations['dapr.io/app-id'];
    expect(trigger.metadata.consumerGroup).toBe(
      metadataItem(pubsub, 'consumerGroup').value.replaceAll('{appID}', appId),
    );
    expect(trigger.metadata.bootstrapServers).toBe(metadataItem(pubsub, 'brokers').value);
    expect(trigger.metadata.topic).toBe(onTaskEvent.trigger.topic);
    for (const value of Object.values(trigger.metadata)) expect(typeof value).toBe('string');
    // The scaler authenticates with the same SASL Secret the Dapr component reads.
    const auth = find('TriggerAuthentication', trigger.authenticationRef.name);
    expect(auth, 'TriggerAuthentication').toBeDefined();
    const saslSecret = metadataItem(pubsub, 'saslPassword').secretKeyRef.name;
    for (const ref of auth.spec.secretTargetRef) expect(ref.name).toBe(saslSecret);
  });

  it('every ScaledObject targets a Deployment; task-cron and task-reminders are never scaled to zero', () => {
    for (const scaled of rendered.filter((d) => d.kind === 'ScaledObject'))
      expect(find('Deployment', scaled.spec.scaleTargetRef.name), scaled.metadata.name).toBeDefined();
    for (const app of ['task-cron', 'task-reminders']) {
      const scaled = rendered.find((d) => d.kind === 'ScaledObject' && d.spec.scaleTargetRef.name === app);
      if (scaled) expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      expect(find('Deployment', app).spec.replicas).toBeGreaterThanOrEqual(1);
    }
    expect(find('ScaledObject', 'tasks-api').spec.minReplicaCount).toBeGreaterThanOrEqual(1);
  });
});
