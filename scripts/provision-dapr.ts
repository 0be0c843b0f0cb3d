/** npm run provision: make daprd, the scheduler and the dapr CLI available (see scripts/lib/dapr-runtime.ts). */
import { DAPR_CLI_VERSION, DAPR_RUNTIME_VERSION, provisionDaprWithCli } from './lib/dapr-runtime.ts';

const started = Date.now();
const binaries = await provisionDaprWithCli();
console.log(`Dapr ${DAPR_RUNTIME_VERSION} (CLI ${DAPR_CLI_VERSION}) ready in ${Date.now() - started} ms:`);
for (const [name, path] of Object.entries(binaries)) console.log(`  ${name.padEnd(9)} ${path}`);
