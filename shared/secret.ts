import type { DaprGateway } from './dapr.ts';
import type { Logger } from './log.ts';

export interface SecretValue {
  /** The secret, once loaded; undefined before. */
  readonly current: () => string | undefined;
  stop(): void;
}

/**
 * Keeps one secret from the Dapr secret store in memory. The first load is
 * retried every second (daprd may start after the app); after that it is
 * re-read every `refreshMs`, so a rotated secret takes effect without a
 * restart. The value is never logged.
 */
export function watchSecret(
  dapr: DaprGateway,
  store: string,
  key: string,
  log: Logger,
  refreshMs = 60_000,
): SecretValue {
  let value: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function load() {
    try {
      const secret = (await dapr.getSecret(store, key))[key];
      if (!secret) throw new Error(`secret store ${store} has no key ${key}`);
      if (value === undefined) log.info('secret loaded', { store, key });
      value = secret;
    } catch (error) {
      log.warn('secret not loaded yet; retrying', { store, key, error });
    }
    if (!stopped) timer = setTimeout(load, value === undefined ? 1000 : refreshMs).unref();
  }
  void load();

  return {
    current: () => value,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
