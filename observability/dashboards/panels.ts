/**
 * The few building blocks every dashboard here is made of, on top of
 * @grafana/grafana-foundation-sdk: PromQL queries against the provisioned
 * Prometheus (uid `prometheus`), time series and stat panels, the variables
 * most panels filter by, and links from a panel to Jaeger's trace search.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  type Dashboard,
  DashboardBuilder,
  DashboardLinkBuilder,
  DashboardLinkType,
  type DataSourceRef,
  QueryVariableBuilder,
  RowBuilder,
  TextBoxVariableBuilder,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';

/** The datasource uids of observability/grafana/provisioning/datasources.yaml. */
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: 'prometheus' };

/** A Grafana interpolation, `${name}` in a panel's text: a variable, a series' label, the time range. */
export const grafana = (name: string) => `\${${name}}`;

/** Grafana's range-aware rate window; the suite substitutes a fixed window when it runs the queries. */
export const RATE = '$__rate_interval';

export function query(expr: string, legend?: string): DataqueryBuilder {
  const builder = new DataqueryBuilder().datasource(PROMETHEUS).expr(expr);
  return legend === undefined ? builder : builder.legendFormat(legend);
}

interface PanelOptions {
  title: string;
  description: string;
  unit?: string;
  targets: DataqueryBuilder[];
  /** Grid width (of 24) and height. */
  span?: number;
  height?: number;
  /** Links on every series' data points (e.g. to Jaeger). */
  links?: DashboardLinkBuilder[];
}

/** Each query of a panel gets its refId: A, B, C… */
const withRefIds = (targets: DataqueryBuilder[]) =>
  targets.map((target, index) => target.refId(String.fromCharCode(65 + index)));

export function timeseries(options: PanelOptions): TimeseriesPanel {
  const panel = new TimeseriesPanel()
    .title(options.title)
    .description(options.description)
    .datasource(PROMETHEUS)
    .targets(withRefIds(options.targets))
    .span(options.span ?? 12)
    .height(options.height ?? 8)
    .lineWidth(1)
    .fillOpacity(10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Right)
        .calcs(['mean', 'max']),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi));
  if (options.unit) panel.unit(options.unit);
  if (options.links) panel.dataLinks(options.links);
  return panel;
}

export function stat(options: PanelOptions): StatPanel {
  const panel = new StatPanel()
    .title(options.title)
    .description(options.description)
    .datasource(PROMETHEUS)
    .targets(withRefIds(options.targets))
    .span(options.span ?? 6)
    .height(options.height ?? 4)
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']));
  if (options.unit) panel.unit(options.unit);
  if (options.links) panel.dataLinks(options.links);
  return panel;
}

export const row = (title: string) => new RowBuilder(title);

/** A variable listing the values of `label` on `metric` (all selected by default, as a regex). */
export function labelVariable(name: string, label: string, metric: string, title: string) {
  return new QueryVariableBuilder(name)
    .label(title)
    .datasource(PROMETHEUS)
    .query(`label_values(${metric}, ${label})`)
    .definition(`label_values(${metric}, ${label})`)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ text: 'All', value: '$__all' });
}

/** Where the operator's Jaeger UI is (port-forwarded by default: deploy/README.md). */
export const jaegerVariable = () =>
  new TextBoxVariableBuilder('jaeger')
    .label('Jaeger UI')
    .description(
      'Base URL of the Jaeger UI the data links open (kubectl port-forward svc/jaeger-query 16686)',
    )
    .defaultValue('http://localhost:16686');

/**
 * A data link to Jaeger's trace search for the series' app (service) and
 * function (operation), over the panel's time range: the way from a slow or
 * failing series to the traces behind it. `extra` adds search parameters, e.g.
 * a minimum duration or tags.
 */
export function traceSearch(title: string, extra: Record<string, string> = {}) {
  const params = [
    `service=${grafana('__field.labels.app_id')}`,
    `operation=${grafana('__field.labels.function')}`,
    // Grafana's time range is in ms; Jaeger's search takes µs.
    `start=${grafana('__from')}000`,
    `end=${grafana('__to')}000`,
    'limit=50',
    ...Object.entries(extra).map(([key, value]) => `${key}=${value}`),
  ];
  return new DashboardLinkBuilder(title)
    .type(DashboardLinkType.Link)
    .url(`${grafana('jaeger')}/search?${params.join('&')}`)
    .targetBlank(true);
}

/** A dashboard with the settings all of ours share. */
export function dashboard(uid: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['tasks-on-dapr'])
    .editable()
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .link(
      new DashboardLinkBuilder('Tasks on Dapr')
        .type(DashboardLinkType.Dashboards)
        .tags(['tasks-on-dapr'])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
}

export type { Dashboard };
