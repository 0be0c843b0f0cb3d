import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { KeyPair } from './kube-pki.ts';

/** A Kubernetes object as the API takes it: only what the client itself reads is typed. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [field: string]: unknown };
  [field: string]: unknown;
}

/** The API server's answer to a request it refused: its status code and its Status object's message. */
export class KubeApiError extends Error {
  readonly status: number;
  /** The Status object's reason: Invalid, NotFound, Conflict… */
  readonly reason: string;
  readonly body: unknown;

  constructor(status: number, reason: string, message: string, body: unknown) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
    this.body = body;
  }
}

interface Resource {
  /** The plural the URL names. */
  name: string;
  namespaced: boolean;
}

export interface KubeClient {
  /** One request; JSON bodies in and out; throws KubeApiError on a status of 400 or more. */
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<unknown>;
  /**
   * Server-side apply of each object in turn (PATCH with
   * application/apply-patch+yaml, forcing conflicts: this field manager
   * owns what it applies); returns what the server stored.
   */
  apply(objects: readonly KubeObject[], options?: ApplyOptions): Promise<KubeObject[]>;
  /** The object, or undefined when the server has none by that name. */
  get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined>;
}

export interface ApplyOptions {
  /** Where a namespaced object that names none goes (kubectl's -n); default `default`. */
  namespace?: string;
}

export interface ClientOptions {
  /** The API server's base URL, https://127.0.0.1:<port>. */
  server: string;
  ca: string;
  user: KeyPair;
  fieldManager?: string;
}

/** A client of one API server, authenticated by a client certificate; resources found by discovery. */
export function kubeClient({ server, ca, user, fieldManager = 'tasks-on-dapr' }: ClientOptions): KubeClient {
  const agent = new Agent({
    ca: readFileSync(ca),
    cert: readFileSync(user.cert),
    key: readFileSync(user.key),
    keepAlive: true,
  });
  // Keep-alive sockets would hold this process open after the tests; let them go.
  agent.on('free', (socket) => socket.unref());

  const call = (method: string, path: string, body?: unknown, contentType = 'application/json') =>
    new Promise<unknown>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        new URL(path, server),
        {
          method,
          agent,
          headers: {
            accept: 'application/json',
            ...(payload === undefined ? {} : { 'content-type': contentType }),
          },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {}
            const status = res.statusCode ?? 0;
            if (status < 400) return resolve(parsed);
            const reason = (parsed as { reason?: string })?.reason ?? '';
            const message = (parsed as { message?: string })?.message ?? text;
            reject(new KubeApiError(status, reason, `${method} ${path}: ${status} ${message}`, parsed));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
      req.on('error', reject);
      req.end(payload);
    });

  // Discovery per group-version, asked again on a miss: a CRD applied meanwhile adds kinds.
  const discovered = new Map<string, Map<string, Resource>>();
  async function resource(apiVersion: string, kind: string): Promise<Resource> {
    for (const fresh of [false, true]) {
      if (fresh || !discovered.has(apiVersion)) {
        const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
        const list = (await call('GET', path).catch((error: unknown) => {
          if (error instanceof KubeApiError && error.status === 404) return { resources: [] };
          throw error;
        })) as { resources: Array<Resource & { kind: string }> };
        discovered.set(
          apiVersion,
          new Map(list.resources.filter((r) => !r.name.includes('/')).map((r) => [r.kind, r])),
        );
      }
      const found = discovered.get(apiVersion)?.get(kind);
      if (found) return found;
    }
    throw new Error(`the API server serves no ${kind} in ${apiVersion}`);
  }

  async function objectPath(apiVersion: string, kind: string, name: string, namespace?: string) {
    const { name: plural, namespaced } = await resource(apiVersion, kind);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const scope = namespaced ? `/namespaces/${encodeURIComponent(namespace ?? 'default')}` : '';
    return `${base}${scope}/${plural}/${encodeURIComponent(name)}`;
  }

  return {
    request: call,
    async apply(objects, { namespace }: ApplyOptions = {}) {
      const stored: KubeObject[] = [];
      for (const object of objects) {
        const { apiVersion, kind, metadata } = object;
        // The server takes a namespaced object's namespace from the URL when the object names none.
        const path = await objectPath(apiVersion, kind, metadata.name, metadata.namespace ?? namespace);
        const query = `?fieldManager=${encodeURIComponent(fieldManager)}&force=true`;
        // JSON is YAML: the apply patch is the object itself.
        stored.push(
          (await call('PATCH', path + query, object, 'application/apply-patch+yaml')) as KubeObject,
        );
      }
      return stored;
    },
    async get(apiVersion, kind, name, namespace) {
      try {
        return (await call('GET', await objectPath(apiVersion, kind, name, namespace))) as KubeObject;
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 404) return undefined;
        throw error;
      }
    },
  };
}
