/**
 * npm run dashboards: writes the Grafana dashboards built in
 * observability/dashboards/ to observability/grafana/dashboards/*.json.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dashboardJson, dashboards } from '../observability/dashboards/index.ts';
import { projectRoot } from './lib/stack.ts';

for (const { file, dashboard } of dashboards) {
  const path = join(projectRoot, 'observability', 'grafana', 'dashboards', file);
  await writeFile(path, dashboardJson(dashboard));
  console.log(`${path}: ${dashboard.panels?.length ?? 0} panels`);
}
