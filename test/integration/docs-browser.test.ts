import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCommand } from '../../scripts/lib/infra.ts';
import { api, stack } from './client.ts';

/**
 * GET /docs in a real browser (Debian's Chromium, installed with apt-get when
 * missing, driven by playwright-core): Swagger UI from the app's own assets
 * lists every operation of /openapi.json with its fields, and a task created
 * from the page with the token is a 201 the API then has.
 */
interface Operation {
  parameters?: Array<{ name: string }>;
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}

interface AsyncApiDocument {
  channels: Record<string, { address: string; messages: Record<string, unknown> }>;
  operations: Record<string, unknown>;
}

let browser: BrowserContext;
let profileDir: string;
let page: Page;
const requested: string[] = [];

beforeAll(async () => {
  const executablePath = await ensureCommand('chromium', 'chromium', (line) => console.log(line));
  profileDir = await mkdtemp(join(tmpdir(), 'tasks-docs-chromium-'));
  // A new empty profile each run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath,
    // Flags for a closed network: without the background ones Chromium keeps calling Google's hosts.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage();
  page.on('request', (request) => requested.push(request.url()));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
});

describe('the API reference in a browser', () => {
  it('lists every operation with its fields, every asset from the app', async () => {
    const document = (await (await fetch(`${stack().url}/openapi.json`)).json()) as OpenApiDocument;
    await page.goto(`${stack().url}/docs`);
    await page.locator('.opblock').first().waitFor();

    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
    );
    expect(await page.locator('.opblock').count()).toBe(operations.length);
    for (const { path, method, operation } of operations) {
      const block = page.locator(`.opblock-${method}`).filter({
        has: page.locator(`.opblock-summary-path[data-path="${path}"]`),
      });
      await expect.poll(() => block.count()).toBe(1);
      await block.locator('.opblock-summary-control').click();
      const fields = [
        ...(operation.parameters ?? []).map((p) => p.name),
        ...Object.values(operation.requestBody?.content ?? {}).flatMap(({ schema }) => {
          const name = schema.$ref?.split('/').pop();
          return Object.keys((name && document.components.schemas[name]?.properties) ?? {});
        }),
      ];
      // What is rendered (innerText), polled: the body renders a moment after the click.
      for (const field of fields)
        await expect
          // biome-ignore lint/performance/useDomNodeTextContent: what is rendered, not what the DOM holds
          .poll(() => block.innerText(), { message: `${method} ${path} shows ${field}` })
          .toContain(field);
      await block.locator('.opblock-summary-control').click();
    }
    const origins = new Set(requested.map((url) => new URL(url).origin));
    expect([...origins]).toEqual([new URL(stack().url).origin]);
  });

  it('renders the events of /asyncapi.json at /docs/events, linked from /docs', async () => {
    const document = (await (await fetch(`${stack().url}/asyncapi.json`)).json()) as AsyncApiDocument;
    await page.goto(`${stack().url}/docs`);
    await page.locator('nav a', { hasText: 'Events' }).click();
    await page.waitForURL(/\/docs\/events$/);
    const operations = Object.keys(document.operations);
    const messages = Object.values(document.channels).flatMap((channel) => Object.keys(channel.messages));
    expect(operations.length).toBeGreaterThan(0);
    for (const text of [
      ...Object.values(document.channels).map((channel) => channel.address),
      ...operations,
      ...messages,
    ])
      await expect
        // biome-ignore lint/performance/useDomNodeTextContent: what is rendered, not what the DOM holds
        .poll(() => page.locator('body').innerText(), { message: `/docs/events shows ${text}` })
        .toContain(text);
    // A message's payload opens to the CloudEvent envelope and its data's fields.
    const created = page.locator('[id="message-task.created"]').first();
    await created.getByRole('button', { name: 'Expand all' }).first().click();
    for (const field of ['specversion', 'datacontenttype', 'seq', 'traceparent', 'title', 'updatedAt'])
      await expect
        // biome-ignore lint/performance/useDomNodeTextContent: what is rendered, not what the DOM holds
        .poll(() => created.innerText(), { message: `task.created shows ${field}` })
        .toContain(field);
    const origins = new Set(requested.map((url) => new URL(url).origin));
    expect([...origins]).toEqual([new URL(stack().url).origin]);
  });

  it('sends a request from the page with the token and gets its 201', async () => {
    await page.goto(`${stack().url}/docs`);
    await page.locator('.opblock').first().waitFor();
    await page.locator('button.authorize').first().click();
    await page.locator('.modal-ux input').fill(stack().apiToken);
    await page.locator('.modal-ux button.authorize').click();
    await page.locator('.modal-ux button.btn-done').click();

    const create = page.locator('.opblock-post').filter({
      has: page.locator('.opblock-summary-path[data-path="/tasks"]'),
    });
    await create.locator('.opblock-summary-control').click();
    await create.locator('button.try-out__btn').click();
    const title = `from the docs page ${Date.now()}`;
    await create.locator('textarea.body-param__text').fill(JSON.stringify({ title, tags: ['docs'] }));
    const answered = page.waitForResponse(
      (response) => response.request().method() === 'POST' && response.url().endsWith('/tasks'),
    );
    await create.locator('button.execute').click();
    const response = await answered;
    expect(response.status()).toBe(201);
    expect(response.request().headers().authorization).toBe(`Bearer ${stack().apiToken}`);
    const task = await response.json();
    await expect
      .poll(() => create.locator('.live-responses-table tr.response .response-col_status').textContent())
      .toMatch(/^\s*201\s*$/);
    const stored = await api('GET', `/tasks/${task.id}`);
    expect(stored.status).toBe(200);
    expect((await stored.json()).title).toBe(title);
  });
});
