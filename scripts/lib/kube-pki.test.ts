import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki, type Pki } from './kube-pki.ts';

describe('the control plane PKI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kube-pki-'));
  let pki: Pki;
  const cert = (path: string) => new X509Certificate(readFileSync(path));
  beforeAll(async () => {
    pki = await createPki(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the API on loopback and as the kubernetes Service, signed by the cluster CA', () => {
    const serving = cert(pki.apiserver.cert);
    expect(serving.checkIssued(cert(pki.ca.cert))).toBe(true);
    expect(serving.ca).toBe(false);
    expect(serving.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(serving.checkIP('10.96.0.1')).toBe('10.96.0.1');
    expect(serving.checkHost('kubernetes.default.svc')).toBe('kubernetes.default.svc');
    expect(serving.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });

  it.each([
    ['admin', 'O=system:masters\nCN=tasks-on-dapr-admin', 'ca'],
    ['controllerManager', 'CN=system:kube-controller-manager', 'ca'],
    ['scheduler', 'CN=system:kube-scheduler', 'ca'],
    ['frontProxyClient', 'CN=front-proxy-client', 'frontProxyCa'],
  ] as const)('%s is a client certificate for %j, issued by %s', (name, subject, issuer) => {
    const client = cert(pki[name].cert);
    expect(client.subject).toBe(subject);
    expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(client.checkIssued(cert(pki[issuer].cert))).toBe(true);
    expect(client.checkIssued(cert(pki[issuer === 'ca' ? 'frontProxyCa' : 'ca'].cert))).toBe(false);
  });

  it("gives KEDA one certificate to serve and call with, on loopback and as the APIService's Service", () => {
    const keda = cert(pki.keda.cert);
    expect(keda.checkIssued(cert(pki.ca.cert))).toBe(true);
    expect(keda.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(keda.checkHost('keda-metrics-apiserver.keda.svc')).toBe('keda-metrics-apiserver.keda.svc');
    expect(keda.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  });

  it('has a service-account key pair that matches', () => {
    const derived = execFileSync('openssl', ['ec', '-in', pki.serviceAccount.key, '-pubout'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    expect(derived).toBe(readFileSync(pki.serviceAccount.pub, 'utf8'));
  });
});
