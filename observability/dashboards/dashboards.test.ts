import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboardJson, dashboards, panelQueries, panelsOf, targetsOf, variableQueries } from './index.ts';
import { grafana } from './panels.ts';

const dir = join(import.meta.dirname, '..', 'grafana', 'dashboards');

describe('Grafana dashboards (observability/dashboards → observability/grafana/dashboards)', () => {
  it('the committed JSON files are exactly what the TypeScript builds (npm run dashboards)', () => {
    expect(readdirSync(dir).sort()).toEqual(dashboards.map((d) => d.file).sort());
    for (const { file, dashboard } of dashboards)
      expect(readFileSync(join(dir, file), 'utf8'), `${file}: run npm run dashboards`).toBe(
        dashboardJson(dashboard),
      );
  });

  it('uids and titles are unique; every panel says what it shows and queries the provisioned Prometheus', () => {
    const uids = dashboards.map((d) => d.dashboard.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const { dashboard } of dashboards) {
      const panels = panelsOf(dashboard);
      expect(panels.length, dashboard.title).toBeGreaterThan(5);
      const titles = panels.map((p) => p.title);
      expect(new Set(titles).size, `${dashboard.title}: panel titles`).toBe(titles.length);
      for (const panel of panels) {
        const where = `${dashboard.title} / ${panel.title}`;
        expect(panel.description, where).toBeTruthy();
        expect(panel.datasource, where).toEqual({ type: 'prometheus', uid: 'prometheus' });
        const targets = targetsOf(panel);
        expect(targets.length, where).toBeGreaterThan(0);
        const refIds = targets.map((t) => t.refId);
        expect(new Set(refIds).size, `${where}: refIds`).toBe(targets.length);
        for (const target of targets) expect(target.datasource?.uid, where).toBe('prometheus');
      }
    }
  });

  it('queries use only the dashboard’s own variables and Grafana’s rate window', () => {
    for (const { dashboard } of dashboards) {
      const defined = new Set((dashboard.templating?.list ?? []).map((v) => v.name));
      const uses = [
        ...panelQueries(dashboard).flatMap((p) => p.exprs),
        ...variableQueries(dashboard).map((v) => v.metric),
      ];
      for (const expr of uses) {
        expect(expr.trim(), dashboard.title).not.toBe('');
        for (const [, name] of expr.matchAll(/\$(\w+)/g))
          expect(name === '__rate_interval' || defined.has(name as string), `${expr}: $${name}`).toBe(true);
        // Every variable is a regex (all = ".*"): it must be matched with =~, never =.
        expect(expr, dashboard.title).not.toMatch(/[^=!]="\$/);
      }
    }
  });

  it('data links to Jaeger search by the series’ app and function, in µs, over the panel’s range', () => {
    const functions = dashboards.find((d) => d.file === 'tasks-functions.json')?.dashboard;
    if (!functions) throw new Error('no functions dashboard');
    const links = panelsOf(functions).flatMap((p) => p.fieldConfig?.defaults?.links ?? []);
    expect(links.length).toBeGreaterThanOrEqual(3);
    for (const link of links) {
      const url = new URL(
        (link.url ?? '').replace(grafana('jaeger'), 'http://jaeger.example').replace(/\$\{[^}]+\}/g, 'x'),
      );
      expect(url.pathname).toBe('/search');
      expect([...url.searchParams.keys()]).toEqual(
        expect.arrayContaining(['service', 'operation', 'start', 'end']),
      );
      expect(link.url).toContain(`start=${grafana('__from')}000`);
      expect(link.targetBlank).toBe(true);
    }
  });
});
