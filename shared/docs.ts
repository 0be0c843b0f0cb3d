import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `GET /docs`: Swagger UI (swagger-ui-dist, from npm) over `/openapi.json`,
 * every asset served by the app itself, nothing from a CDN. A bundle finds the
 * assets in `docs/` beside it (build.mjs copies them there); from source, in
 * node_modules.
 */
export const docsAssets = ['swagger-ui-bundle.js', 'swagger-ui.css'] as const;
export type DocsAsset = (typeof docsAssets)[number];

const contentTypes: Record<DocsAsset, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
};

function assetsDir(): string {
  const beside = join(dirname(fileURLToPath(import.meta.url)), 'docs');
  if (existsSync(join(beside, docsAssets[0]))) return beside;
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

let dir: string | undefined;
const cache = new Map<DocsAsset, Promise<Buffer>>();

/** An asset's bytes and content type, read once on first use (most processes never serve one). */
export async function docsAsset(name: DocsAsset): Promise<{ body: Buffer; contentType: string }> {
  dir ??= assetsDir();
  let body = cache.get(name);
  if (!body) {
    body = readFile(join(dir, name));
    cache.set(name, body);
    body.catch(() => cache.delete(name));
  }
  return { body: await body, contentType: contentTypes[name] };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The page: Swagger UI loading the API document, the bearer token kept across reloads. */
export function docsPage(title: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/swagger-ui.css"></head><body><div id="docs"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs', deepLinking: true,
  persistAuthorization: true, defaultModelsExpandDepth: 0, defaultModelExpandDepth: 3 });</script>
</body></html>`;
}
