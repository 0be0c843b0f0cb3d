/**
 * Makes the local Kubernetes control plane's binaries available (see
 * scripts/lib/kube-binaries.ts); KUBE_BIN_DIR moves them.
 */
import { KUBERNETES_VERSION, kubeBinDir, provisionKubeBinaries } from './lib/kube-binaries.ts';

const started = Date.now();
const binaries = await provisionKubeBinaries();
console.log(
  `Kubernetes ${KUBERNETES_VERSION} control plane binaries in ${kubeBinDir()}, ready in ${Date.now() - started} ms:`,
);
for (const [name, path] of Object.entries(binaries)) console.log(`  ${name.padEnd(23)} ${path}`);
