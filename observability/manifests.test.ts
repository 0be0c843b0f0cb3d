import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { apps } from '../apps.ts';
import {
  containerEnv,
  isManifest,
  type Manifest,
  metadataItem,
  parseDocuments,
  validate,
  yamlFiles,
} from '../deploy/manifests.ts';
import { ensureCommand } from '../scripts/lib/infra.ts';
import { kustomizeBuild } from '../scripts/lib/kustomize.ts';
import { jaegerBinary } from '../scripts/lib/observability.ts';
import { projectRoot } from '../scripts/lib/stack.ts';
import { runtimeConfigSchema } from '../shared/config.ts';

/**
 * observability/ on a cluster: every Kubernetes manifest under it is validated
 * against its schema, the kustomization is built and every rendered resource
 * validated, and the pieces are checked against each other and against
 * deploy/ and keda/: the addresses daprd, the apps, the Collector, KEDA and
 * Grafana send to reach a Service, a port and a container that listens there;
 * Prometheus' jobs find the ports the pods declare; the Kafka exporter reads
 * the pub/sub component's brokers the way the component does. The programs'
 * own validators check their files: `promtool check config` (Debian's
 * prometheus package) and `jaeger validate` (Jaeger v2 from the Go module proxy,
 * an OpenTelemetry Collector distribution) for Jaeger's and the Collector's.
 */

const run = promisify(execFile);
const root = join(projectRoot, 'observability');
const read = (path: string) => readFileSync(join(projectRoot, path), 'utf8');
const files = yamlFiles(root);
const kustomization = parse(read('observability/kustomization.yaml'));
const resourceFiles: string[] = kustomization.resources.map((file: string) => join(root, file));
const deploymentNames = resourceFiles
  .flatMap((file) => parseDocuments(readFileSync(file, 'utf8'), file))
  .filter((doc) => doc.kind === 'Deployment')
  .map((doc) => doc.metadata.name as string);
const appNames = Object.keys(apps);
const NAMESPACE = 'observability';
/** Kinds without a namespace. */
const clusterScoped = new Set(['ClusterRole', 'ClusterRoleBinding']);

/** A Service's cluster DNS name (name, name.ns, name.ns.svc, name.ns.svc.cluster.local) and port. */
interface ServiceAddress {
  service: string;
  namespace: string;
  port: number;
}

/** `host:port` or a URL, as seen by a pod in `fromNamespace`. */
function serviceAddress(address: string, fromNamespace: string): ServiceAddress {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  const [service = '', namespace = fromNamespace, ...rest] = url.hostname.split('.');
  if (!['', 'svc', 'svc.cluster.local'].includes(rest.join('.')))
    throw new Error(`${address}: not a Service's cluster DNS name`);
  const defaults: Record<string, number> = { 'http:': 80, 'https:': 443 };
  const port = url.port ? Number(url.port) : defaults[url.protocol];
  if (!port) throw new Error(`${address}: no port`);
  return { service, namespace, port };
}

/** The same address written in full, to compare addresses written from different namespaces. */
const qualified = (address: string, fromNamespace: string) => {
  const { service, namespace, port } = serviceAddress(address, fromNamespace);
  return `${service}.${namespace}.svc:${port}`;
};

/** The port of a `host:port` a program listens on. */
const listenPort = (endpoint: string) => Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));

/** The values of a `--flag=value` argument (every occurrence). */
const argValues = (container: Manifest, flag: string): string[] =>
  (container.args ?? [])
    .filter((arg: string) => arg.startsWith(`${flag}=`))
    .map((arg: string) => arg.slice(flag.length + 1));

const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

/** Every `datasource: { uid }` in a dashboard, wherever it is (panels, targets, variables, annotations). */
function datasourceUids(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(datasourceUids);
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => {
    const own =
      key === 'datasource' && value && typeof value === 'object' && 'uid' in value ? [String(value.uid)] : [];
    return [...own, ...datasourceUids(value)];
  });
}

const SdConfig = z.strictObject({
  role: z.enum(['pod', 'endpoints', 'endpointslice', 'service', 'node', 'ingress']),
  namespaces: z.strictObject({ names: z.array(z.string().min(1)).min(1) }).optional(),
});

describe('Observability manifests (observability/)', () => {
  let rendered: Manifest[] = [];
  let tasks: Manifest[] = [];
  let keda: Manifest[] = [];
  let scratch = '';
  const find = (kind: string, name: string) =>
    rendered.find((doc) => doc.kind === kind && doc.metadata?.name === name);
  const deployment = (name: string) => {
    const doc = find('Deployment', name);
    if (!doc) throw new Error(`no Deployment ${name}`);
    return doc;
  };
  const containerOf = (name: string) => deployment(name).spec.template.spec.containers[0];
  const appDeployment = (app: string) => {
    const doc = tasks.find((d) => d.kind === 'Deployment' && d.metadata.name === app);
    if (!doc) throw new Error(`no Deployment ${app} in deploy/overlays/example`);
    return doc;
  };

  /** The ConfigMap kustomize generated as `name` (a hash is appended). */
  const generated = (name: string) => {
    const doc = rendered.find(
      (d) => d.kind === 'ConfigMap' && new RegExp(`^${name}-[a-z0-9]{10}$`).test(d.metadata.name),
    );
    if (!doc) throw new Error(`no generated ConfigMap ${name}`);
    return doc;
  };

  /** Where a Deployment's container reads `key` of the generated ConfigMap `name`. */
  const mountedFile = (deploymentName: string, name: string, key: string) => {
    const pod = deployment(deploymentName).spec.template.spec;
    const configMap = generated(name).metadata.name;
    const volume = pod.volumes?.find((v: Manifest) => v.configMap?.name === configMap);
    expect(volume, `${deploymentName}: a volume of ConfigMap ${name}`).toBeDefined();
    const mount = pod.containers[0].volumeMounts?.find((m: Manifest) => m.name === volume.name);
    expect(mount, `${deploymentName}: mounts ${volume.name}`).toBeDefined();
    const item = volume.configMap.items?.find((i: Manifest) => i.key === key);
    return `${mount.mountPath}/${item?.path ?? key}`;
  };

  /** The configuration file `key` of the generated ConfigMap `name`, parsed; it must be the file `source`. */
  const configFile = (name: string, key: string, source: string) => {
    const text = generated(name).data?.[key];
    expect(text, `ConfigMap ${name} key ${key}`).toBe(read(source));
    return parse(text);
  };

  /** The Deployment, container and container port a Service address leads to, in the rendered observability/. */
  const backend = (address: ServiceAddress) => {
    const service = rendered.find(
      (d) =>
        d.kind === 'Service' &&
        d.metadata.name === address.service &&
        d.metadata.namespace === address.namespace,
    );
    if (!service) throw new Error(`no Service ${address.service} in namespace ${address.namespace}`);
    const servicePort = service.spec.ports.find((p: Manifest) => p.port === address.port);
    if (!servicePort) throw new Error(`Service ${address.service} has no port ${address.port}`);
    const targets = rendered.filter(
      (d) =>
        d.kind === 'Deployment' &&
        d.metadata.namespace === service.metadata.namespace &&
        selects(service.spec.selector, d.spec.template.metadata.labels),
    );
    expect(
      targets.map((d) => d.metadata.name),
      `Deployments behind ${address.service}`,
    ).toHaveLength(1);
    const [target] = targets;
    const targetPort = servicePort.targetPort ?? servicePort.port;
    for (const container of target.spec.template.spec.containers) {
      const port = container.ports?.find(
        (p: Manifest) => p.name === targetPort || p.containerPort === targetPort,
      );
      if (port)
        return {
          deployment: target.metadata.name as string,
          container,
          port: port.containerPort,
          servicePort,
        };
    }
    throw new Error(`Service ${address.service}: no container declares its targetPort ${targetPort}`);
  };

  const collectorConfig = () =>
    configFile('otel-collector-config', 'otel-collector.yaml', 'observability/k8s/otel-collector.yaml');
  const jaegerConfig = () => configFile('jaeger-config', 'jaeger.yaml', 'observability/k8s/jaeger.yaml');
  const prometheusConfig = () =>
    configFile('prometheus-config', 'prometheus.yml', 'observability/k8s/prometheus.yml');
  const scrapeJob = (name: string) => {
    const job = prometheusConfig().scrape_configs.find((j: Manifest) => j.job_name === name);
    if (!job) throw new Error(`no scrape job ${name}`);
    return job;
  };
  /** The regex a job keeps targets by, for a meta label. */
  const keeps = (job: Manifest, label: string) =>
    job.relabel_configs.find(
      (r: Manifest) => r.action === 'keep' && r.source_labels?.length === 1 && r.source_labels[0] === label,
    )?.regex;

  beforeAll(async () => {
    rendered = parseDocuments(await kustomizeBuild(root), 'observability');
    tasks = parseDocuments(
      await kustomizeBuild(join(projectRoot, 'deploy', 'overlays', 'example')),
      'deploy/overlays/example',
    );
    keda = parseDocuments(await kustomizeBuild(join(projectRoot, 'keda')), 'keda');
    scratch = await mkdtemp(join(tmpdir(), 'observability-manifests-'));
  }, 180_000);

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('finds manifests and configuration files to check', () => {
    expect(resourceFiles.length).toBeGreaterThanOrEqual(5);
    expect([...deploymentNames].sort()).toEqual(
      ['grafana', 'jaeger', 'kafka-exporter', 'otel-collector', 'prometheus'].sort(),
    );
  });

  it.each(files.map((file) => [relative(projectRoot, file), file]))(
    '%s: its Kubernetes manifests validate against their schemas',
    (name, file) => {
      const docs = parseDocuments(readFileSync(file, 'utf8'), name);
      expect(docs.length).toBeGreaterThan(0);
      const manifests = docs.filter(isManifest);
      // A file kustomize applies holds manifests only; the others are programs' configuration.
      if (resourceFiles.includes(file) || file === join(root, 'kustomization.yaml'))
        expect(manifests.length, 'every document a manifest').toBe(docs.length);
      for (const [index, doc] of manifests.entries()) validate(doc, `${name} #${index + 1}`);
    },
  );

  it('every file of manifests is in the kustomization', () => {
    const withManifests = files.filter(
      (file) =>
        file !== join(root, 'kustomization.yaml') &&
        parseDocuments(readFileSync(file, 'utf8'), file).some(isManifest),
    );
    expect(withManifests.sort()).toEqual([...resourceFiles].sort());
  });

  it('builds with kustomize; every rendered resource validates, in namespace observability, labelled', () => {
    expect(rendered.length).toBeGreaterThan(10);
    for (const doc of rendered) {
      const where = `rendered ${doc.kind}/${doc.metadata?.name}`;
      validate(doc, where);
      expect(doc.metadata.namespace, where).toBe(clusterScoped.has(doc.kind) ? undefined : NAMESPACE);
      expect(doc.metadata.labels?.['app.kubernetes.io/part-of'], where).toBe('tasks-on-dapr');
    }
  });

  it.each(deploymentNames)(
    '%s: pinned image, resources, probes and a restricted security context',
    (name) => {
      const pod = deployment(name).spec.template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      const volumes = new Set((pod.volumes ?? []).map((v: Manifest) => v.name));
      for (const container of pod.containers) {
        const where = `${name}/${container.name}`;
        expect(container.image, where).toMatch(/^[\w./-]+:v?\d+\.\d+\.\d+$/);
        expect(container.resources.requests, where).toMatchObject({
          cpu: expect.any(String),
          memory: expect.any(String),
        });
        expect(container.resources.limits.memory, where).toBeDefined();
        expect(container.securityContext, where).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        const ports = (container.ports ?? []).flatMap((p: Manifest) => [p.name, p.containerPort]);
        for (const probe of ['livenessProbe', 'readinessProbe']) {
          expect(container[probe]?.httpGet?.path, `${where} ${probe}`).toMatch(/^\//);
          expect(ports, `${where} ${probe} port`).toContain(container[probe].httpGet.port);
        }
        for (const mount of container.volumeMounts ?? []) expect(volumes, where).toContain(mount.name);
      }
      for (const volume of pod.volumes ?? [])
        if (volume.configMap) expect(find('ConfigMap', volume.configMap.name), volume.name).toBeDefined();
    },
  );

  it('every Service selects one Deployment and targets a port its container declares', () => {
    const services = rendered.filter((d) => d.kind === 'Service');
    expect(services.map((s) => s.metadata.name).sort()).toEqual(
      [
        'grafana',
        'jaeger-collector',
        'jaeger-query',
        'kafka-exporter',
        'otel-collector',
        'prometheus',
      ].sort(),
    );
    for (const service of services)
      for (const { port } of service.spec.ports)
        expect(backend({ service: service.metadata.name, namespace: NAMESPACE, port }).port).toBeGreaterThan(
          0,
        );
  });

  it('the Collector listens where daprd (Configuration tasks-config) and the apps send spans', () => {
    const config = collectorConfig();
    const collector = containerOf('otel-collector');
    expect(argValues(collector, '--config')).toEqual([
      mountedFile('otel-collector', 'otel-collector-config', 'otel-collector.yaml'),
    ]);
    const { grpc, http } = config.receivers.otlp.protocols;
    const traces = config.service.pipelines.traces;
    expect(traces.receivers).toContain('otlp');
    // memory_limiter first, so that it refuses data before anything else holds it.
    expect(traces.processors).toEqual(['memory_limiter', 'batch']);
    expect(backend({ service: 'otel-collector', namespace: NAMESPACE, port: 4317 })).toMatchObject({
      deployment: 'otel-collector',
      port: listenPort(grpc.endpoint),
      servicePort: { appProtocol: 'grpc' },
    });
    const otlpHttp = { deployment: 'otel-collector', port: listenPort(http.endpoint) };

    const dapr = tasks.find((d) => d.kind === 'Configuration' && d.metadata.name === 'tasks-config');
    const otel = dapr.spec.tracing.otel;
    expect(otel).toMatchObject({ protocol: 'http', isSecure: false });
    expect(backend(serviceAddress(otel.endpointAddress, 'tasks'))).toMatchObject(otlpHttp);

    for (const app of appNames) {
      const endpoint = containerEnv(
        appDeployment(app).spec.template.spec.containers[0],
      ).OTEL_EXPORTER_OTLP_ENDPOINT;
      expect(endpoint, app).toMatch(/^http:\/\//);
      expect(backend(serviceAddress(endpoint, 'tasks')), app).toMatchObject(otlpHttp);
    }
    // The probes ask the health_check extension.
    expect(
      collector.ports.find((p: Manifest) => p.name === collector.livenessProbe.httpGet.port).containerPort,
    ).toBe(listenPort(config.extensions.health_check.endpoint));
  });

  it("the Collector exports to Jaeger's OTLP/gRPC receiver; Jaeger's query Service reaches its UI", () => {
    const config = collectorConfig();
    const jaeger = jaegerConfig();
    expect(argValues(containerOf('jaeger'), '--config')).toEqual([
      mountedFile('jaeger', 'jaeger-config', 'jaeger.yaml'),
    ]);
    const exporters: string[] = config.service.pipelines.traces.exporters;
    expect(exporters.length).toBeGreaterThan(0);
    for (const name of exporters) {
      expect(name).toMatch(/^otlp(\/|$)/);
      const exporter = config.exporters[name];
      // Jaeger's receiver has no TLS: neither has the exporter.
      expect(exporter.tls?.insecure, name).toBe(true);
      expect(backend(serviceAddress(exporter.endpoint, NAMESPACE)), name).toMatchObject({
        deployment: 'jaeger',
        port: listenPort(jaeger.receivers.otlp.protocols.grpc.endpoint),
      });
    }
    expect(backend({ service: 'jaeger-query', namespace: NAMESPACE, port: 16686 })).toMatchObject({
      deployment: 'jaeger',
      port: listenPort(jaeger.extensions.jaeger_query.http.endpoint),
    });
    const health = containerOf('jaeger').ports.find(
      (p: Manifest) => p.name === containerOf('jaeger').livenessProbe.httpGet.port,
    );
    expect(health.containerPort).toBe(listenPort(jaeger.extensions.healthcheckv2.http.endpoint));
    // Traces in memory: one replica, and the old pod gone before the new one starts.
    expect(
      Object.values(jaeger.extensions.jaeger_storage.backends).map((b) => Object.keys(b as object)),
    ).toEqual([['memory']]);
    expect(deployment('jaeger').spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
  });

  it.each(appNames)(
    '%s serves metrics on METRICS_PORT, in a container port named for the job `app`',
    (app) => {
      const pod = appDeployment(app).spec.template;
      const [container] = pod.spec.containers;
      const env = containerEnv(container);
      const metricsPort = Number(env.METRICS_PORT);
      expect(metricsPort).toBe(runtimeConfigSchema.parse({ APP_API_TOKEN: 'x'.repeat(16) }).METRICS_PORT);
      const port = container.ports.find((p: Manifest) => p.containerPort === metricsPort);
      expect(port?.name).toBe(keeps(scrapeJob('app'), '__meta_kubernetes_pod_container_port_name'));
      // daprd's metrics, which the job `daprd` finds by the port the injector names dapr-metrics.
      expect(pod.metadata.annotations['dapr.io/enable-metrics']).toBe('true');
    },
  );

  it('Prometheus: its files, and jobs app, daprd, keda and kafka-exporter that find their pods', () => {
    const config = prometheusConfig();
    const prometheus = containerOf('prometheus');
    expect(argValues(prometheus, '--config.file')).toEqual([
      mountedFile('prometheus', 'prometheus-config', 'prometheus.yml'),
    ]);
    // The alert rules are observability/alerts.yml, where the ConfigMap is mounted.
    configFile('prometheus-rules', 'alerts.yml', 'observability/alerts.yml');
    expect(config.rule_files).toEqual([mountedFile('prometheus', 'prometheus-rules', 'alerts.yml')]);

    const jobs = config.scrape_configs;
    expect(jobs.map((j: Manifest) => j.job_name).sort()).toEqual(['app', 'daprd', 'kafka-exporter', 'keda']);
    for (const job of jobs) {
      for (const sd of job.kubernetes_sd_configs) SdConfig.parse(sd);
      const sets = (target: string) =>
        job.relabel_configs.find((r: Manifest) => r.target_label === target && !r.action)?.source_labels;
      expect(sets('namespace'), job.job_name).toEqual(['__meta_kubernetes_namespace']);
      expect(sets('pod'), job.job_name).toEqual(['__meta_kubernetes_pod_name']);
      if (['app', 'daprd'].includes(job.job_name))
        expect(sets('app_id'), job.job_name).toEqual(['__meta_kubernetes_pod_annotation_dapr_io_app_id']);
    }
    // daprd's series carry their own app_id (and namespace): they must win over the target's.
    expect(scrapeJob('daprd').honor_labels).toBe(true);
    expect(keeps(scrapeJob('daprd'), '__meta_kubernetes_pod_container_port_name')).toBe('dapr-metrics');
    // KEDA's series carry the ScaledObject's namespace.
    expect(scrapeJob('keda').honor_labels).toBe(true);
    expect(scrapeJob('keda').kubernetes_sd_configs[0].namespaces.names).toEqual(['keda']);
    expect(keeps(scrapeJob('keda'), '__meta_kubernetes_pod_container_port_number')).toBe('8080');

    const exporter = scrapeJob('kafka-exporter');
    expect(exporter.kubernetes_sd_configs[0].namespaces.names).toEqual([NAMESPACE]);
    const exporterPod = deployment('kafka-exporter').spec.template;
    expect(exporterPod.metadata.labels['app.kubernetes.io/name']).toBe(
      keeps(exporter, '__meta_kubernetes_pod_label_app_kubernetes_io_name'),
    );
    const listen = listenPort(argValues(exporterPod.spec.containers[0], '--web.listen-address')[0] ?? '');
    const exporterPort = exporterPod.spec.containers[0].ports.find(
      (p: Manifest) => p.containerPort === listen,
    );
    expect(exporterPort?.name).toBe(keeps(exporter, '__meta_kubernetes_pod_container_port_name'));

    // No pod here declares a port the apps' or daprd's job would take for theirs.
    const taken = [scrapeJob('app'), scrapeJob('daprd')].map((j) =>
      keeps(j, '__meta_kubernetes_pod_container_port_name'),
    );
    for (const doc of rendered.filter((d) => d.kind === 'Deployment'))
      for (const container of doc.spec.template.spec.containers)
        for (const port of container.ports ?? []) expect(taken, doc.metadata.name).not.toContain(port.name);

    // Every job an alert rule names is scraped.
    for (const [, job] of read('observability/alerts.yml').matchAll(/job="([^"]+)"/g))
      expect(jobs.map((j: Manifest) => j.job_name)).toContain(job);

    // Discovery: the ServiceAccount may list and watch pods in every namespace.
    expect(deployment('prometheus').spec.template.spec.serviceAccountName).toBe('prometheus');
    const binding = rendered.find(
      (d) =>
        d.kind === 'ClusterRoleBinding' &&
        d.subjects.some(
          (s: Manifest) =>
            s.kind === 'ServiceAccount' && s.name === 'prometheus' && s.namespace === NAMESPACE,
        ),
    );
    const role = find('ClusterRole', binding?.roleRef.name);
    const podRule = role?.rules.find(
      (r: Manifest) => r.apiGroups.includes('') && r.resources.includes('pods'),
    );
    expect(podRule?.verbs).toEqual(expect.arrayContaining(['get', 'list', 'watch']));
  });

  it("KEDA's Prometheus trigger (keda/tasks-api.yaml) queries the Prometheus Service", () => {
    const scaled = keda.find((d) => d.kind === 'ScaledObject' && d.metadata.name === 'tasks-api');
    const trigger = scaled.spec.triggers.find((t: Manifest) => t.type === 'prometheus');
    // KEDA's objects are applied into the apps' namespace (deploy/README.md).
    expect(backend(serviceAddress(trigger.metadata.serverAddress, 'tasks'))).toMatchObject({
      deployment: 'prometheus',
      port: listenPort(argValues(containerOf('prometheus'), '--web.listen-address')[0] ?? ':9090'),
    });
  });

  it("the Kafka exporter reads the pub/sub component's brokers, with its credentials and settings", () => {
    const pubsub = tasks.find((d) => d.kind === 'Component' && d.metadata.name === 'pubsub');
    const value = (name: string) => metadataItem(pubsub, name)?.value;
    const exporter = containerOf('kafka-exporter');
    // The component's addresses are resolved from the apps' namespace, the exporter's from this one.
    const brokers = value('brokers')
      .split(',')
      .map((b: string) => qualified(b.trim(), 'tasks'));
    expect(argValues(exporter, '--kafka.server').map((b) => qualified(b, NAMESPACE))).toEqual(brokers);
    expect(value('authType')).toBe('password');
    expect(exporter.args).toContain('--sasl.enabled');
    expect(`scram-${value('saslMechanism').replace('-', '').toLowerCase()}`).toBe(
      argValues(exporter, '--sasl.mechanism')[0],
    );
    // No TLS on either side.
    expect(value('disableTls')).toBe('true');
    expect(exporter.args.some((a: string) => a.startsWith('--tls.enabled'))).toBe(false);
    expect(argValues(exporter, '--kafka.version')).toEqual([value('version')]);
    // The same Secret name and keys as the component's (a copy in this namespace).
    const env = containerEnv(exporter);
    for (const [flag, item] of [
      ['--sasl.username', 'saslUsername'],
      ['--sasl.password', 'saslPassword'],
    ] as const) {
      const [, variable = ''] = /^\$\((\w+)\)$/.exec(argValues(exporter, flag)[0] ?? '') ?? [];
      expect(env[variable]?.secretKeyRef, flag).toEqual(metadataItem(pubsub, item).secretKeyRef);
    }
  });

  it("Grafana: data sources with fixed uids on the right Services, and the dashboards' uids among them", () => {
    const datasources = configFile(
      'grafana-datasources',
      'datasources.yaml',
      'observability/grafana/provisioning/datasources.yaml',
    ).datasources;
    const byUid = Object.fromEntries(datasources.map((d: Manifest) => [d.uid, d]));
    expect(byUid.prometheus).toMatchObject({ type: 'prometheus', isDefault: true });
    expect(byUid.jaeger).toMatchObject({ type: 'jaeger' });
    expect(datasources.filter((d: Manifest) => d.isDefault)).toHaveLength(1);
    expect(backend(serviceAddress(byUid.prometheus.url, NAMESPACE)).deployment).toBe('prometheus');
    expect(backend(serviceAddress(byUid.jaeger.url, NAMESPACE))).toMatchObject({
      deployment: 'jaeger',
      port: listenPort(jaegerConfig().extensions.jaeger_query.http.endpoint),
    });
    expect(byUid.prometheus.jsonData.timeInterval).toBe(prometheusConfig().global.scrape_interval);

    const grafana = containerOf('grafana');
    const provisioning = containerEnv(grafana).GF_PATHS_PROVISIONING;
    expect(mountedFile('grafana', 'grafana-datasources', 'datasources.yaml')).toBe(
      `${provisioning}/datasources/datasources.yaml`,
    );
    expect(mountedFile('grafana', 'grafana-dashboard-providers', 'dashboards.yaml')).toBe(
      `${provisioning}/dashboards/dashboards.yaml`,
    );
    const [provider] = configFile(
      'grafana-dashboard-providers',
      'dashboards.yaml',
      'observability/grafana/provisioning/dashboards.yaml',
    ).providers;
    expect(provider).toMatchObject({ type: 'file', folder: 'Tasks on Dapr' });

    // The ConfigMap holds every dashboard file, mounted where the provider reads.
    const dir = join(root, 'grafana', 'dashboards');
    const jsonFiles = readdirSync(dir).filter((f) => f.endsWith('.json'));
    const generator = kustomization.configMapGenerator.find((g: Manifest) => g.name === 'grafana-dashboards');
    expect(generator.files.map((f: string) => relative(dir, join(root, f))).sort()).toEqual(jsonFiles.sort());
    for (const file of jsonFiles)
      expect(dirname(mountedFile('grafana', 'grafana-dashboards', file)), file).toBe(provider.options.path);

    const builtIn = ['-- Grafana --', 'grafana', '-- Mixed --', '-- Dashboard --'];
    for (const file of jsonFiles) {
      const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      const variables = (dashboard.templating?.list ?? [])
        .filter((v: Manifest) => v.type === 'datasource')
        .flatMap((v: Manifest) => [`$${v.name}`, `\${${v.name}}`]);
      for (const uid of datasourceUids(dashboard))
        expect([...Object.keys(byUid), ...builtIn, ...variables], `${file}: datasource uid`).toContain(uid);
    }
  });

  it("daprd's metrics settings on the cluster are the local ones (components/config.yaml)", () => {
    const cluster = tasks.find((d) => d.kind === 'Configuration' && d.metadata.name === 'tasks-config');
    expect(cluster.spec.metric).toEqual(parse(read('components/config.yaml')).spec.metric);
  });

  it('the Secrets observability/ reads are documented in deploy/README.md', () => {
    const names = new Set<string>();
    for (const doc of rendered.filter((d) => d.kind === 'Deployment'))
      for (const container of doc.spec.template.spec.containers)
        for (const env of container.env ?? [])
          if (env.valueFrom?.secretKeyRef) names.add(env.valueFrom.secretKeyRef.name);
    expect([...names].sort()).toEqual(['grafana-admin', 'kafka-sasl']);
    const readme = read('deploy/README.md');
    for (const name of names) expect(readme).toContain(`-n observability create secret generic ${name}`);
  });

  it('promtool accepts the scrape configuration and observability/alerts.yml', async () => {
    const promtool = await ensureCommand('promtool', 'prometheus', console.log);
    const config = parse(read('observability/k8s/prometheus.yml'));
    config.rule_files = [join(root, 'alerts.yml')];
    const check = async (name: string, content: Manifest) => {
      const file = join(scratch, name);
      await writeFile(file, stringify(content));
      return run(promtool, ['check', 'config', file]).then(
        ({ stdout }) => ({ ok: true, output: stdout }),
        (error) => ({ ok: false, output: `${error.stdout}${error.stderr}` }),
      );
    };
    let result = await check('prometheus.yml', config);
    // Debian builds Prometheus without Kubernetes discovery. There the jobs are checked with a
    // static target instead (relabelling and everything else as written); the discovery blocks'
    // shape is checked by the Prometheus test above.
    if (!result.ok && /field kubernetes_sd_configs not found/.test(result.output)) {
      for (const job of config.scrape_configs) {
        delete job.kubernetes_sd_configs;
        job.static_configs = [{ targets: ['127.0.0.1:9'] }];
      }
      result = await check('prometheus-static.yml', config);
    }
    expect(result.output).toContain('SUCCESS: 4 rules found');
    expect(result.ok, result.output).toBe(true);
  }, 180_000);

  it("jaeger validate accepts Jaeger's configuration", async () => {
    const jaeger = await jaegerBinary();
    await expect(
      run(jaeger, ['validate', '--config', join(root, 'k8s', 'jaeger.yaml')]),
    ).resolves.toBeDefined();
  }, 600_000);

  it("jaeger validate accepts the Collector's configuration, but for health_check (not in Jaeger's build)", async () => {
    const jaeger = await jaegerBinary();
    const config = parse(read('observability/k8s/otel-collector.yaml'));
    // The contrib image has health_check; Jaeger has only healthcheckv2. Everything else is checked.
    delete config.extensions.health_check;
    config.service.extensions = config.service.extensions.filter((e: string) => e !== 'health_check');
    if (Object.keys(config.extensions).length === 0) delete config.extensions;
    const file = join(scratch, 'otel-collector.yaml');
    await writeFile(file, stringify(config));
    await expect(run(jaeger, ['validate', '--config', file])).resolves.toBeDefined();
  }, 600_000);
});
