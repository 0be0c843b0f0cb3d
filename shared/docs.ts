import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The documents' viewers, from npm, every asset served by the app itself,
 * nothing from a CDN: `GET /docs` is Swagger UI (swagger-ui-dist) over
 * `/openapi.json`, `GET /docs/events` the AsyncAPI React component's
 * standalone bundle over `/asyncapi.json`. A bundle finds the assets in
 * `docs/` beside it (build.mjs copies them there); from source, in
 * node_modules.
 */
const js = 'text/javascript; charset=utf-8';
const css = 'text/css; charset=utf-8';
const assets = {
  'swagger-ui-bundle.js': { pkg: 'swagger-ui-dist', file: 'swagger-ui-bundle.js', type: js },
  'swagger-ui.css': { pkg: 'swagger-ui-dist', file: 'swagger-ui.css', type: css },
  'asyncapi.js': { pkg: '@asyncapi/react-component', file: 'browser/standalone/index.js', type: js },
  'asyncapi.css': { pkg: '@asyncapi/react-component', file: 'styles/default.min.css', type: css },
} as const;
export type DocsAsset = keyof typeof assets;
export const docsAssets = Object.keys(assets) as DocsAsset[];

/** Each asset's file in node_modules, and the licences that go with them (build.mjs copies both). */
export function docsAssetSources(): { name: string; from: string }[] {
  const require = createRequire(import.meta.url);
  const dir = (pkg: string) => dirname(require.resolve(`${pkg}/package.json`));
  return [
    ...docsAssets.map((name) => ({ name, from: join(dir(assets[name].pkg), assets[name].file) })),
    { name: 'LICENSE.swagger-ui-dist', from: join(dir('swagger-ui-dist'), 'LICENSE') },
    { name: 'LICENSE.asyncapi-react-component', from: join(dir('@asyncapi/react-component'), 'LICENSE') },
    {
      name: 'asyncapi.js.LICENSE.txt',
      from: join(dir('@asyncapi/react-component'), 'browser/standalone/index.js.LICENSE.txt'),
    },
  ];
}

function assetFile(name: DocsAsset): string {
  const beside = join(dirname(fileURLToPath(import.meta.url)), 'docs', name);
  return existsSync(beside) ? beside : (docsAssetSources().find((s) => s.name === name)?.from ?? beside);
}

const cache = new Map<DocsAsset, Promise<Buffer>>();

/** An asset's bytes and content type, read once on first use (most processes never serve one). */
export async function docsAsset(name: DocsAsset): Promise<{ body: Buffer; contentType: string }> {
  let body = cache.get(name);
  if (!body) {
    body = readFile(assetFile(name));
    cache.set(name, body);
    body.catch(() => cache.delete(name));
  }
  return { body: await body, contentType: assets[name].type };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

const page = (title: string, head: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><style>body { margin: 0 }</style>
${head}</head><body>${body}</body></html>`;

const nav = (here: 'api' | 'events') =>
  `<nav style="font: 14px system-ui, sans-serif; padding: 8px 20px; background: #1b1b1b; color: #ddd">
${here === 'api' ? '<b>HTTP API</b>' : '<a style="color: #8cf" href="/docs">HTTP API</a>'} ·
${here === 'events' ? '<b>Events</b>' : '<a style="color: #8cf" href="/docs/events">Events</a>'} ·
<a style="color: #8cf" href="/openapi.json">openapi.json</a> ·
<a style="color: #8cf" href="/asyncapi.json">asyncapi.json</a></nav>`;

/** `/docs`: Swagger UI loading the API document, the bearer token kept across reloads. */
export function docsPage(title: string): string {
  return page(
    title,
    '<link rel="stylesheet" href="/docs/swagger-ui.css">',
    `${nav('api')}<div id="docs"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs', deepLinking: true,
  persistAuthorization: true, defaultModelsExpandDepth: 0, defaultModelExpandDepth: 3 });</script>`,
  );
}

/** `/docs/events`: the AsyncAPI document rendered: channels, operations, messages and their schemas. */
export function eventsPage(title: string): string {
  return page(
    `${title}: events`,
    '<link rel="stylesheet" href="/docs/asyncapi.css">',
    `${nav('events')}<div id="events"></div>
<script src="/docs/asyncapi.js"></script>
<script>AsyncApiStandalone.render({ schema: { url: '/asyncapi.json' },
  config: { show: { sidebar: true, servers: false }, expand: { messageExamples: false } } },
  document.getElementById('events'));</script>`,
  );
}
