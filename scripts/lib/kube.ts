import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goModuleDir, type KubeBinaries, provisionKubeBinaries } from './kube-binaries.ts';
import { type KubeClient, kubeClient } from './kube-client.ts';
import { createPki, kubeconfig, type Pki, SERVICE_CLUSTER_IP_RANGE } from './kube-pki.ts';
import { freePort, httpOk, Scope, startProcess, untilReady } from './processes.ts';

export interface ControlPlaneOptions {
  /** What owns the control plane: its processes join a scope of its own in it. */
  scope: Scope;
  /** Certificates, data and logs go here; default a new directory under the system's temp dir. */
  workDir?: string;
  binaries?: KubeBinaries;
  log?: (line: string) => void;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** An admin kubeconfig (system:masters), for kubectl or the KEDA operator. */
  kubeconfig: string;
  pki: Pki;
  workDir: string;
  binaries: KubeBinaries;
  /** A client authenticated as the admin. */
  client: KubeClient;
  /** Stops every process of it, newest first (SIGTERM, SIGKILL after a grace). */
  stop(): Promise<void>;
}

/**
 * The grace after SIGTERM: etcd and kube-apiserver have been measured to
 * take longer than 8 s to go on a busy machine, and a test run has nothing
 * to keep in their data.
 */
const GRACE_MS = 5_000;

/** Whether an HTTPS endpoint answers 200 (a component's self-signed /healthz: no CA to check it against). */
function httpsOk(url: string, pki?: Pki): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        timeout: 2000,
        ...(pki
          ? {
              ca: readFileSync(pki.ca.cert),
              cert: readFileSync(pki.admin.cert),
              key: readFileSync(pki.admin.key),
            }
          : { rejectUnauthorized: false }),
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * A Kubernetes control plane on 127.0.0.1, on free ports: etcd, kube-apiserver
 * (with the aggregation layer's front-proxy flags, so that KEDA's metrics
 * adapter can serve external.metrics.k8s.io), kube-controller-manager,
 * kube-scheduler and kwok, which plays the kubelet of fake nodes. Resolves
 * once the API server's /readyz and each component's /healthz pass.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const log = options.log ?? (() => {});
  const scope = new Scope(options.scope);
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), 'tasks-on-dapr-kube-')));
  // Joined first, so stopped last: a directory of its own goes once every process has, unless KEEP_TEST_DATA=1.
  if (!options.workDir && !process.env.KEEP_TEST_DATA)
    scope.add({ stop: () => rm(workDir, { recursive: true, force: true }) });
  const [pkiDir, logDir] = [join(workDir, 'pki'), join(workDir, 'logs')];
  await Promise.all([mkdir(pkiDir, { recursive: true }), mkdir(logDir, { recursive: true })]);
  const binaries = options.binaries ?? (await provisionKubeBinaries({ log }));

  return scope.run(async () => {
    const started = Date.now();
    const pki = await createPki(pkiDir);
    const stage = await kwokStages();
    const [etcdClient, etcdPeer, apiserverPort, kcmPort, schedulerPort, kwokPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const server = `https://127.0.0.1:${apiserverPort}`;
    const configs = {
      admin: join(pkiDir, 'admin.kubeconfig'),
      controllerManager: join(pkiDir, 'controller-manager.kubeconfig'),
      scheduler: join(pkiDir, 'scheduler.kubeconfig'),
    };
    for (const [name, path] of Object.entries(configs))
      await writeFile(path, kubeconfig(server, pki.ca.cert, pki[name as keyof typeof configs]));

    const start = async (name: string, command: string, args: string[], ready: () => Promise<boolean>) => {
      const child = startProcess(name, command, args, {
        scope,
        cwd: workDir,
        output: join(logDir, `${name}.log`),
        stopGraceMs: GRACE_MS,
      });
      await untilReady(child, ready);
      log(`[kube] ${name} ready (${Date.now() - started} ms)`);
    };

    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    await start(
      'etcd',
      binaries.etcd,
      [
        '--name=default',
        `--data-dir=${join(workDir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
        // A throwaway cluster: no fsync per write.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      () => httpOk(`${etcdUrl}/health`),
    );

    await start(
      'kube-apiserver',
      binaries['kube-apiserver'],
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiserverPort}`,
        `--cert-dir=${pkiDir}`,
        `--tls-cert-file=${pki.apiserver.cert}`,
        `--tls-private-key-file=${pki.apiserver.key}`,
        `--client-ca-file=${pki.ca.cert}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${pki.serviceAccount.pub}`,
        `--service-account-signing-key-file=${pki.serviceAccount.key}`,
        `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
        '--authorization-mode=Node,RBAC',
        // The endpoint reconciler would write 127.0.0.1 into the kubernetes Service's endpoints, which the API refuses.
        '--endpoint-reconciler-type=none',
        '--enable-priority-and-fairness=false',
        '--profiling=false',
        // The aggregation layer: who the API server says it is to an aggregated API server, and how that one checks it.
        `--requestheader-client-ca-file=${pki.frontProxyCa.cert}`,
        '--requestheader-allowed-names=front-proxy-client',
        '--requestheader-username-headers=X-Remote-User',
        '--requestheader-group-headers=X-Remote-Group',
        '--requestheader-extra-headers-prefix=X-Remote-Extra-',
        `--proxy-client-cert-file=${pki.frontProxyClient.cert}`,
        `--proxy-client-key-file=${pki.frontProxyClient.key}`,
        '--v=1',
      ],
      () => httpsOk(`${server}/readyz`, pki),
    );

    const component = (port: number, config: string) => [
      `--kubeconfig=${config}`,
      `--authentication-kubeconfig=${config}`,
      `--authorization-kubeconfig=${config}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${join(workDir, `serving-${port}`)}`,
      '--leader-elect=false',
    ];
    await start(
      'kube-controller-manager',
      binaries['kube-controller-manager'],
      [
        ...component(kcmPort, configs.controllerManager),
        // Each controller as its own service account, as kubeadm runs it: the bootstrap roles expect that.
        '--use-service-account-credentials',
        `--service-account-private-key-file=${pki.serviceAccount.key}`,
        `--root-ca-file=${pki.ca.cert}`,
        `--cluster-signing-cert-file=${pki.ca.cert}`,
        `--cluster-signing-key-file=${pki.ca.key}`,
        `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
        // A test's cluster: HPAs are reconciled every 5 s (not 15) and scale down after 30 s of lower
        // recommendations (not 5 minutes), so that a scaling test waits for seconds, not minutes.
        '--horizontal-pod-autoscaler-sync-period=5s',
        '--horizontal-pod-autoscaler-downscale-stabilization=30s',
      ],
      () => httpsOk(`https://127.0.0.1:${kcmPort}/healthz`),
    );
    await start(
      'kube-scheduler',
      binaries['kube-scheduler'],
      component(schedulerPort, configs.scheduler),
      () => httpsOk(`https://127.0.0.1:${schedulerPort}/healthz`),
    );
    await start(
      'kwok',
      binaries.kwok,
      [
        `--kubeconfig=${configs.admin}`,
        // Only nodes made to be fake: a node anyone else registers is left alone.
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        `--server-address=127.0.0.1:${kwokPort}`,
        ...stage.flatMap((file) => ['-c', file]),
      ],
      () => httpOk(`http://127.0.0.1:${kwokPort}/healthz`),
    );
    log(`[kube] control plane ready at ${server} in ${Date.now() - started} ms (${workDir})`);
    return {
      server,
      kubeconfig: configs.admin,
      pki,
      workDir,
      binaries,
      client: kubeClient({ server, ca: pki.ca.cert, user: pki.admin }),
      stop: () => scope.stop(),
    };
  });
}

/**
 * kwok's stages for fast nodes and pods, from its module in the Go module
 * cache: a node is Ready at once (and kept so by heartbeats), a pod runs as
 * soon as it is scheduled and goes when deleted.
 */
async function kwokStages(): Promise<string[]> {
  const stages = join(await goModuleDir('kwok', 'sigs.k8s.io/kwok'), 'kustomize', 'stage');
  const files: string[] = [];
  for (const folder of ['node/fast', 'node/heartbeat', 'pod/fast']) {
    const dir = join(stages, folder);
    for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml'))
      files.push(join(dir, file));
  }
  return files;
}
