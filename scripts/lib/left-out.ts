import { basename, dirname, resolve, sep } from 'node:path';
import type { Plugin } from 'esbuild';

/**
 * A module the bundles leave out: @opentelemetry/sdk-node requires every
 * exporter, propagator and config loader it could build from OTEL_* values,
 * but shared/telemetry-sdk.ts hands NodeSDK its span processors, metric
 * readers, log processors and instrumentations (none), so NodeSDK never
 * builds one from the environment. checkTelemetryEnv (telemetry-sdk.ts)
 * refuses to start on a value that would need one of these.
 */
export interface LeftOutModule {
  /**
   * The bare specifier (a package name) as node_modules code requires it, its
   * subpaths too; or, with `file`, a name for the file.
   */
  specifier: string;
  /** A file inside node_modules (`zod/v4/locales/index.js`), however it is imported. */
  file?: string;
  /** Why nothing reaches it: part of the stand-in's error. */
  why: string;
  /** The stand-in's own CommonJS source, for a module that is reached with nothing to do. */
  standIn?: string;
}

const notFromEnv =
  'NodeSDK is given its exporters by shared/telemetry-sdk.ts and builds none from OTEL_* values';

export const leftOut: readonly LeftOutModule[] = [
  ...['logs', 'metrics', 'trace'].flatMap((signal) =>
    ['grpc', 'proto', 'http'].map((transport) => ({
      specifier: `@opentelemetry/exporter-${signal}-otlp-${transport}`,
      why: `OTLP ${signal} over ${transport}: ${notFromEnv} (traces: the project's own OTLP/HTTP exporter)`,
    })),
  ),
  { specifier: '@opentelemetry/exporter-zipkin', why: `Zipkin: ${notFromEnv}` },
  { specifier: '@opentelemetry/otlp-grpc-exporter-base', why: `OTLP/gRPC: ${notFromEnv}` },
  {
    specifier: '@opentelemetry/propagator-b3',
    why: 'B3 propagation: OTEL_PROPAGATORS may name tracecontext and baggage only',
  },
  {
    specifier: '@opentelemetry/propagator-jaeger',
    why: 'Jaeger propagation: OTEL_PROPAGATORS may name tracecontext and baggage only',
  },
  {
    specifier: '@opentelemetry/configuration',
    why: 'the declarative config file (OTEL_CONFIG_FILE) is read by startNodeSDK only, and the functions use NodeSDK',
  },
  { specifier: '@grpc/grpc-js', why: 'gRPC: only the OTLP/gRPC exporters use it' },
  { specifier: '@grpc/proto-loader', why: 'gRPC: only the OTLP/gRPC exporters use it' },
  { specifier: 'protobufjs', why: 'protobuf: only the OTLP/gRPC and OTLP/protobuf exporters use it' },
  {
    // zod registers its English messages itself (classic/schemas.js imports locales/en.js).
    specifier: 'zod-locales',
    file: 'zod/v4/locales/index.js',
    why: "zod's other languages: the functions' errors are in English (z.locales is never used)",
  },
  {
    specifier: '@opentelemetry/instrumentation',
    why: 'no instrumentation libraries: NodeSDK is given none (and require-in-the-middle hooks nothing)',
    // NodeSDK.start() registers its (empty) list of instrumentations: nothing to do for none.
    standIn: 'registerInstrumentations',
  },
];

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * The stand-in's CommonJS source: any export it is asked for is a function
 * that throws, when called or constructed, an error that names the module
 * and why it was left out. Reading exports (as a CommonJS module's top level
 * does) is harmless. `registerInstrumentations` also accepts an empty list.
 */
export function standInSource(module: LeftOutModule): string {
  const what = JSON.stringify(
    `${module.specifier} was left out of this bundle (scripts/lib/left-out.ts): ${module.why}`,
  );
  const registerEmpty =
    module.standIn === 'registerInstrumentations'
      ? `if (key === 'registerInstrumentations') return (options) => { if ((options?.instrumentations?.flat() ?? []).length > 0) reached(key); return () => {}; };`
      : '';
  return `'use strict';
const reached = (name) => { throw new Error(${what} + '; reached: ' + name); };
const standIn = (name) => new Proxy(function () {}, {
  apply: () => reached(name),
  construct: () => reached(name),
  get: (target, key) => (typeof key === 'symbol' || key === 'prototype' ? target[key] : standIn(name + '.' + key)),
});
module.exports = new Proxy({}, {
  get(target, key) {
    if (typeof key === 'symbol' || key === '__esModule' || key === 'then' || key === 'default') return target[key];
    ${registerEmpty}
    return standIn(key);
  },
});
`;
}

export interface LeftOutOptions {
  modules?: readonly LeftOutModule[];
  /**
   * Also replace what the project's own files import (not only node_modules'):
   * tests only. By default a project file's import is always the real module
   * (shared/telemetry-sdk.ts imports the OTLP/HTTP trace exporter it uses).
   */
  fromProject?: boolean;
  /** Told each module that got its stand-in, with the file that imported it. */
  onLeftOut?: (specifier: string, importer: string) => void;
}

/** The esbuild plugin: every import of a left-out module from node_modules gets the module's stand-in. */
export function leftOutPlugin(options: LeftOutOptions = {}): Plugin {
  const modules = options.modules ?? leftOut;
  const bySpecifier = new Map(modules.map((module) => [module.specifier, module]));
  const packages = modules.filter((module) => !module.file);
  const files = modules.filter((module) => module.file);
  const filter = new RegExp(
    `^(?:${packages.map((module) => escapeRegExp(module.specifier)).join('|')})(?:/.*)?$`,
  );
  const fileFilter = new RegExp(
    `(?:^|/)(?:${files.map((module) => escapeRegExp(basename(module.file ?? ''))).join('|')})$`,
  );
  const inNodeModules = (importer: string) => /[\\/]node_modules[\\/]/.test(importer);
  return {
    name: 'left-out',
    setup(build) {
      build.onResolve({ filter }, (args) => {
        if (!options.fromProject && !inNodeModules(args.importer)) return undefined;
        const module = packages.find(
          (m) => args.path === m.specifier || args.path.startsWith(`${m.specifier}/`),
        );
        if (!module) return undefined;
        options.onLeftOut?.(module.specifier, args.importer);
        return { path: module.specifier, namespace: 'left-out' };
      });
      if (files.length > 0)
        build.onResolve({ filter: fileFilter }, (args) => {
          if (!args.path.startsWith('.') || !inNodeModules(args.importer)) return undefined;
          const target = resolve(dirname(args.importer), args.path).split(sep).join('/');
          const module = files.find((m) => target.endsWith(`/node_modules/${m.file}`));
          if (!module) return undefined;
          options.onLeftOut?.(module.specifier, args.importer);
          return { path: module.specifier, namespace: 'left-out' };
        });
      build.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => {
        const module = bySpecifier.get(args.path);
        return module ? { contents: standInSource(module), loader: 'js' } : undefined;
      });
    },
  };
}
