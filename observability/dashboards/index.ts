/**
 * The Grafana dashboards, generated from TypeScript: `npm run dashboards`
 * writes each to observability/grafana/dashboards/<file> (what Grafana's
 * provisioning loads), and a unit test fails when a committed file differs
 * from what this code builds.
 */

import type { Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { daprDashboard } from './dapr.ts';
import { functionsDashboard } from './functions.ts';
import { kafkaKedaDashboard } from './kafka-keda.ts';
import type { Dashboard } from './panels.ts';

export interface DashboardFile {
  file: string;
  dashboard: Dashboard;
  /**
   * Whether every panel must show data on a local stack under load (the
   * integration suite checks): the app's and daprd's. Kafka exporter and
   * KEDA series exist only on a cluster; their queries must still be valid.
   */
  local: boolean;
}

export const dashboards: DashboardFile[] = [
  { file: 'tasks-functions.json', dashboard: functionsDashboard.build(), local: true },
  { file: 'tasks-dapr.json', dashboard: daprDashboard.build(), local: true },
  { file: 'tasks-kafka-keda.json', dashboard: kafkaKedaDashboard.build(), local: false },
];

/** The file's text: what `npm run dashboards` writes. */
export const dashboardJson = (dashboard: Dashboard) => `${JSON.stringify(dashboard, null, 2)}\n`;

export interface PanelQueries {
  dashboard: string;
  panel: string;
  exprs: string[];
}

/** The Prometheus query of a panel target (panels.ts makes every target one). */
export interface PromTarget {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}

/** The dashboard's panels, rows left out. */
export const panelsOf = (dashboard: Dashboard): Panel[] =>
  (dashboard.panels ?? []).filter((panel): panel is Panel => panel.type !== 'row');

export const targetsOf = (panel: Panel) => (panel.targets ?? []) as PromTarget[];

/** Every panel's PromQL expressions. */
export function panelQueries(dashboard: Dashboard): PanelQueries[] {
  return panelsOf(dashboard).map((panel) => ({
    dashboard: dashboard.title ?? '',
    panel: panel.title ?? '',
    exprs: targetsOf(panel).map((target) => target.expr ?? ''),
  }));
}

/** The variables' `label_values(metric, label)` queries, as metric and label. */
export function variableQueries(
  dashboard: Dashboard,
): Array<{ name: string; metric: string; label: string }> {
  return (dashboard.templating?.list ?? []).flatMap((variable) => {
    if (variable.type !== 'query') return [];
    const match = /^label_values\((.+), (\w+)\)$/.exec(String(variable.query));
    if (!match) throw new Error(`variable ${variable.name}: not a label_values query: ${variable.query}`);
    return [{ name: variable.name, metric: match[1] as string, label: match[2] as string }];
  });
}
