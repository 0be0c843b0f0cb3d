/**
 * Runs an app, a single function, or everything (`all`, the default):
 *   node main.ts [all | tasks-api | createTask | ...]
 * The bundles in dist/ are built from the same table (apps.ts).
 */
import { allFunctions, apps, selectFunctions } from './apps.ts';
import { serve } from './shared/server.ts';
import { taskApp } from './tasks/app.ts';

const name = process.argv[2] ?? process.env.TASKS_UNIT ?? 'all';
const functions = selectFunctions(name);
if (!functions) {
  const choices = ['all', ...Object.keys(apps), ...allFunctions.map((fn) => fn.name)];
  process.stderr.write(`Unknown app or function "${name}". Choose one of: ${choices.join(', ')}\n`);
  process.exit(2);
}
serve({ name, app: taskApp, functions });
