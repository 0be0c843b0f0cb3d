import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ControlPlane } from './kube.ts';
import type { KubeObject } from './kube-client.ts';
import { KEDA_METRICS_SERVICE } from './kube-pki.ts';
import { freePort, httpOk, Scope, startProcess, untilReady } from './processes.ts';

export interface Keda {
  stop(): Promise<void>;
}

export interface KedaOptions {
  scope: Scope;
  plane: ControlPlane;
  log?: (line: string) => void;
}

/**
 * KEDA's operator and its metrics adapter as processes on 127.0.0.1 beside a
 * control plane, as KEDA's chart runs them in a cluster: the operator
 * watches ScaledObjects, makes their HPAs and scales 0 ↔ 1 itself; the
 * adapter serves external.metrics.k8s.io through the API server's
 * aggregation layer (an APIService whose Service is an ExternalName for
 * 127.0.0.1: the API refuses loopback endpoints) and asks the operator for
 * each value over mutual TLS. kube-controller-manager's HPA controller reads
 * those values and sets the replicas between 1 and the maximum.
 */
export async function startKeda({ scope: owner, plane, log = () => {} }: KedaOptions): Promise<Keda> {
  const scope = new Scope(owner);
  const { pki, workDir, binaries, client } = plane;
  const started = Date.now();
  // KEDA reads ca.crt, tls.crt and tls.key from one directory, for its gRPC service and its client alike.
  const certDir = join(workDir, 'keda-certs');
  await mkdir(certDir, { recursive: true });
  await copyFile(pki.ca.cert, join(certDir, 'ca.crt'));
  await copyFile(pki.keda.cert, join(certDir, 'tls.crt'));
  await copyFile(pki.keda.key, join(certDir, 'tls.key'));
  // The CAs its scalers trust beside the system's (--ca-dir reads every file in it as a certificate).
  const caDir = join(workDir, 'keda-ca');
  await mkdir(caDir, { recursive: true });
  await copyFile(pki.ca.cert, join(caDir, 'ca.crt'));
  const logDir = join(workDir, 'logs');
  const [grpc, operatorProbe, operatorMetrics, adapterSecure, adapterMetrics] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const env = {
    KUBECONFIG: plane.kubeconfig,
    // Every namespace; KEDA's own objects (and its TriggerAuthentications' cluster secrets) in keda.
    WATCH_NAMESPACE: '',
    POD_NAMESPACE: KEDA_METRICS_SERVICE.namespace,
    KEDA_CLUSTER_OBJECT_NAMESPACE: KEDA_METRICS_SERVICE.namespace,
  };

  return scope.run(async () => {
    const operator = startProcess(
      'keda-operator',
      binaries['keda-operator'],
      [
        `--metrics-bind-address=127.0.0.1:${operatorMetrics}`,
        `--health-probe-bind-address=127.0.0.1:${operatorProbe}`,
        `--metrics-service-bind-address=127.0.0.1:${grpc}`,
        `--cert-dir=${certDir}`,
        `--ca-dir=${caDir}`,
        // The certificates are made here, not by the operator (which would write a Secret and patch the APIService).
        '--enable-cert-rotation=false',
        '--enable-webhook-patching=false',
        '--enable-apiservice-patching=false',
        '--zap-log-level=info',
      ],
      { scope, cwd: workDir, env, output: join(logDir, 'keda-operator.log') },
    );
    await untilReady(operator, () => httpOk(`http://127.0.0.1:${operatorProbe}/readyz`));
    log(`[keda] operator ready (${Date.now() - started} ms)`);

    await client.apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: KEDA_METRICS_SERVICE.namespace } },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { ...KEDA_METRICS_SERVICE },
        spec: {
          type: 'ExternalName',
          externalName: '127.0.0.1',
          ports: [{ name: 'https', port: adapterSecure, protocol: 'TCP' }],
        },
      },
      {
        apiVersion: 'apiregistration.k8s.io/v1',
        kind: 'APIService',
        metadata: { name: 'v1beta1.external.metrics.k8s.io' },
        spec: {
          group: 'external.metrics.k8s.io',
          version: 'v1beta1',
          groupPriorityMinimum: 100,
          versionPriority: 100,
          service: { ...KEDA_METRICS_SERVICE, port: adapterSecure },
          caBundle: (await readFile(pki.ca.cert)).toString('base64'),
        },
      },
    ] satisfies KubeObject[]);

    const adapter = startProcess(
      'keda-adapter',
      binaries['keda-adapter'],
      [
        '--bind-address=127.0.0.1',
        `--secure-port=${adapterSecure}`,
        `--cert-dir=${certDir}`,
        `--tls-cert-file=${join(certDir, 'tls.crt')}`,
        `--tls-private-key-file=${join(certDir, 'tls.key')}`,
        `--metrics-service-address=127.0.0.1:${grpc}`,
        `--lister-kubeconfig=${plane.kubeconfig}`,
        `--authentication-kubeconfig=${plane.kubeconfig}`,
        `--authorization-kubeconfig=${plane.kubeconfig}`,
        `--port=${adapterMetrics}`,
        '--zap-log-level=info',
      ],
      { scope, cwd: workDir, env, output: join(logDir, 'keda-adapter.log') },
    );
    // Available once the aggregator has reached the adapter through the Service and checked its certificate.
    await untilReady(adapter, () => apiServiceAvailable(plane));
    log(`[keda] metrics adapter serving external.metrics.k8s.io (${Date.now() - started} ms)`);
    return { stop: () => scope.stop() };
  });
}

async function apiServiceAvailable(plane: ControlPlane): Promise<boolean> {
  const service = await plane.client.get(
    'apiregistration.k8s.io/v1',
    'APIService',
    'v1beta1.external.metrics.k8s.io',
  );
  const conditions = (service?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)
    ?.conditions;
  return conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false;
}
