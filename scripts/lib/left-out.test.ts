import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { leftOut, leftOutPlugin, standInSource } from './left-out.ts';
import { oneCopyPlugin } from './one-copy.ts';

const root = join(import.meta.dirname, '../..');

/** A stand-in's exports, as the bundle's require() would return them. */
function load(specifier: string) {
  const module = leftOut.find((m) => m.specifier === specifier);
  if (!module) throw new Error(`not left out: ${specifier}`);
  const cjs = { exports: {} as Record<string, unknown> };
  new Function('module', 'exports', standInSource(module))(cjs, cjs.exports);
  return cjs.exports as unknown;
}

describe('standInSource', () => {
  it('lets code read its exports, and throws naming the module and why once one is used', () => {
    const { ZipkinExporter } = load('@opentelemetry/exporter-zipkin') as { ZipkinExporter: new () => object };
    expect(typeof ZipkinExporter).toBe('function');
    expect({} instanceof ZipkinExporter).toBe(false);
    expect(() => new ZipkinExporter()).toThrow(
      /^@opentelemetry\/exporter-zipkin was left out of this bundle \(scripts\/lib\/left-out.ts\): Zipkin: .*; reached: ZipkinExporter$/,
    );
    const grpc = load('@grpc/grpc-js') as { credentials: { createInsecure: () => unknown } };
    expect(() => grpc.credentials.createInsecure()).toThrow(
      /@grpc\/grpc-js was left out.*reached: credentials.createInsecure/,
    );
  });

  it('registers an empty list of instrumentations, and refuses any other', () => {
    const { registerInstrumentations } = load('@opentelemetry/instrumentation') as {
      registerInstrumentations: (options: { instrumentations: unknown[] }) => () => void;
    };
    expect(typeof registerInstrumentations({ instrumentations: [] })).toBe('function');
    expect(() => registerInstrumentations({ instrumentations: [{}] })).toThrow(
      /@opentelemetry\/instrumentation was left out/,
    );
  });
});

describe('leftOutPlugin with NodeSDK', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'left-out-'));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const reached = new Set<string>();
  // What shared/telemetry-sdk.ts does with NodeSDK, bundled as build.mjs bundles it.
  const result = await esbuild.build({
    stdin: {
      contents: `
        import { NodeSDK, tracing } from '@opentelemetry/sdk-node';
        import { trace } from '@opentelemetry/api';
        export function start(env) {
          Object.assign(process.env, env);
          const exporter = new tracing.InMemorySpanExporter();
          const sdk = new NodeSDK({ serviceName: 'left-out-test', spanProcessors: [new tracing.SimpleSpanProcessor(exporter)],
            metricReaders: [], logRecordProcessors: [], instrumentations: [] });
          try { sdk.start(); } finally { for (const key of Object.keys(env)) delete process.env[key]; }
          trace.getTracer('t').startSpan('one').end();
          // Export waits for the resource's detected attributes.
          const spans = async () => { await new Promise((r) => setTimeout(r, 50)); return exporter.getFinishedSpans().map((s) => s.name); };
          return { sdk, spans };
        }`,
      resolveDir: root,
      sourcefile: 'left-out-test.js',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: join(dir, 'sdk.mjs'),
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    metafile: true,
    logLevel: 'silent',
    plugins: [
      leftOutPlugin({ onLeftOut: (specifier) => reached.add(specifier) }),
      oneCopyPlugin({ nodeModules: join(root, 'node_modules') }),
    ],
  });
  const inputs = Object.keys(result.metafile.inputs);

  it('leaves the exporters NodeSDK requires out, and their gRPC and protobuf', () => {
    for (const gone of [
      '@grpc/grpc-js',
      'protobufjs',
      'exporter-zipkin',
      'exporter-trace-otlp-grpc',
      'configuration',
    ])
      expect(inputs.filter((file) => file.includes(`node_modules/${gone}`))).toEqual([]);
    expect(reached).toContain('@opentelemetry/exporter-trace-otlp-grpc');
    expect(reached).toContain('@opentelemetry/propagator-b3');
    // One copy of each name@version.
    expect(
      inputs.filter((file) => file.endsWith('@opentelemetry/core/build/src/index.js')).length,
    ).toBeLessThanOrEqual(2);
  });

  /** Runs the bundle in a process of its own (as a bundle runs): what start(env) made, or the error it threw. */
  function run(env: Record<string, string>): { spans?: string[]; error?: string } {
    const script = `import { start } from './sdk.mjs';
      try { const { sdk, spans } = start(${JSON.stringify(env)}); console.log(JSON.stringify({ spans: await spans() })); await sdk.shutdown(); }
      catch (error) { console.log(JSON.stringify({ error: error.message })); }`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      encoding: 'utf8',
    });
    return JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
  }

  it('starts NodeSDK and makes spans; a propagator left out throws its error, not a silent no-op', () => {
    expect(run({})).toEqual({ spans: ['one'] });
    expect(run({ OTEL_PROPAGATORS: 'b3' }).error).toMatch(
      /^@opentelemetry\/propagator-b3 was left out of this bundle.*reached: B3Propagator$/,
    );
  });
});
