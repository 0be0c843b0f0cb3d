import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its private key, as PEM files. */
export interface KeyPair {
  cert: string;
  key: string;
}

/**
 * What a control plane on loopback authenticates with, made fresh for each
 * run (valid for two days) with the openssl CLI: the cluster's CA, the API
 * server's serving certificate, a client certificate per component, the
 * aggregation layer's front-proxy CA and client, and the service-account
 * signing key. The layout of kubeadm's, minus what a single loopback host
 * does not need (etcd runs without TLS on 127.0.0.1).
 */
export interface Pki {
  ca: KeyPair;
  apiserver: KeyPair;
  /** system:masters: the tests' client and kwok (which patches any node and pod). */
  admin: KeyPair;
  controllerManager: KeyPair;
  scheduler: KeyPair;
  frontProxyCa: KeyPair;
  /** What the API server presents to aggregated API servers (KEDA's metrics adapter). */
  frontProxyClient: KeyPair;
  /**
   * KEDA's: one certificate that its operator serves its metrics gRPC service
   * with and its metrics adapter both calls that with (mutual TLS, as KEDA's
   * own cert rotation makes one) and serves external.metrics.k8s.io with, on
   * 127.0.0.1 and as the Service the APIService names.
   */
  keda: KeyPair;
  serviceAccount: { key: string; pub: string };
}

/** The Service the APIService of external.metrics.k8s.io names, as KEDA's chart calls it. */
export const KEDA_METRICS_SERVICE = { name: 'keda-metrics-apiserver', namespace: 'keda' } as const;

/** The first address of the service range (10.96.0.0/24): the `kubernetes` Service's, which the serving certificate names. */
export const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/24';
const KUBERNETES_SERVICE_IP = '10.96.0.1';

const DAYS = '2';
// No distinguished-name prompts and no extensions from the system's openssl.cnf: each certificate says what it is.
const OPENSSL_CONFIG = '[req]\ndistinguished_name = dn\n[dn]\n';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

async function openssl(dir: string, args: string[]) {
  await run('openssl', args, { cwd: dir, env: { ...process.env, OPENSSL_CONF: join(dir, 'openssl.cnf') } });
}

async function selfSignedCa(dir: string, name: string, subject: string): Promise<KeyPair> {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await openssl(dir, [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    pair.key,
    '-out',
    pair.cert,
    '-days',
    DAYS,
    '-subj',
    subject,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return pair;
}

async function signed(
  dir: string,
  ca: KeyPair,
  name: string,
  subject: string,
  extensions: string[],
): Promise<KeyPair> {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await openssl(dir, [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    pair.key,
    '-out',
    pair.cert,
    '-days',
    DAYS,
    '-subj',
    subject,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    ...extensions.flatMap((extension) => ['-addext', extension]),
  ]);
  return pair;
}

const client = (dir: string, ca: KeyPair, name: string, subject: string) =>
  signed(dir, ca, name, subject, ['extendedKeyUsage=clientAuth']);

/** Creates the certificates and keys in `dir` (which must exist). */
export async function createPki(dir: string): Promise<Pki> {
  await writeFile(join(dir, 'openssl.cnf'), OPENSSL_CONFIG);
  const ca = await selfSignedCa(dir, 'ca', '/CN=tasks-on-dapr-kube-ca');
  const frontProxyCa = await selfSignedCa(dir, 'front-proxy-ca', '/CN=tasks-on-dapr-front-proxy-ca');
  const names = [
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
  ];
  const apiserver = await signed(dir, ca, 'apiserver', '/CN=kube-apiserver', [
    `subjectAltName=IP:127.0.0.1,DNS:localhost,IP:${KUBERNETES_SERVICE_IP},${names.map((n) => `DNS:${n}`).join(',')}`,
    'extendedKeyUsage=serverAuth',
  ]);
  const serviceAccount = { key: join(dir, 'sa.key'), pub: join(dir, 'sa.pub') };
  await openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', serviceAccount.key]);
  await openssl(dir, ['ec', '-in', serviceAccount.key, '-pubout', '-out', serviceAccount.pub]);
  return {
    ca,
    apiserver,
    admin: await client(dir, ca, 'admin', '/O=system:masters/CN=tasks-on-dapr-admin'),
    // The identities the bootstrap RBAC policy grants what these components need.
    controllerManager: await client(dir, ca, 'controller-manager', '/CN=system:kube-controller-manager'),
    scheduler: await client(dir, ca, 'scheduler', '/CN=system:kube-scheduler'),
    frontProxyCa,
    frontProxyClient: await client(dir, frontProxyCa, 'front-proxy-client', '/CN=front-proxy-client'),
    keda: await signed(dir, ca, 'keda', '/CN=keda', [
      // The aggregator checks the adapter's certificate against the name <service>.<namespace>.svc.
      `subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:${KEDA_METRICS_SERVICE.name}.${KEDA_METRICS_SERVICE.namespace}.svc`,
      'extendedKeyUsage=serverAuth,clientAuth',
    ]),
    serviceAccount,
  };
}

/** A kubeconfig for `user` against the API server at `server`. */
export function kubeconfig(server: string, ca: string, user: KeyPair): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server, 'certificate-authority': ca } }],
    users: [{ name: 'user', user: { 'client-certificate': user.cert, 'client-key': user.key } }],
    contexts: [{ name: 'local', context: { cluster: 'local', user: 'user' } }],
    'current-context': 'local',
  });
}
