/**
 * Runs the example app, one of its apps, or one of its functions beside a daprd:
 *   npx node examples/main.ts [all | greetings-api | greetings-events | greet | ...]
 */
import { selectFunctions } from '../shared/app.ts';
import { serve } from '../shared/server.ts';
import { greetingApp } from './app.ts';
import { apps } from './apps.ts';

const name = process.argv[2] ?? 'all';
const functions = selectFunctions(apps, name);
if (!functions) {
  process.stderr.write(`Unknown app or function "${name}".\n`);
  process.exit(2);
}
serve({ name, app: greetingApp, functions });
