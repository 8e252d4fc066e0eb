import type {Logger} from 'pino';
import {ProviderConfigurationError} from './provider-metadata.js';

/** The first retry comes soon (a provider starting beside hub-auth); later ones back off to this. */
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/**
 * Loads the identity provider's metadata and keys (at start, and after a reload), and keeps trying
 * until it can: until then no token can be checked and /readyz says not ready. Each failure is logged with the URL that failed,
 * the recovery once, so that an operator reading the log (not only a probe) sees why.
 */
export function watchProviderUntilReady(ready: () => Promise<void>, logger: Logger): void {
  let failures = 0;
  let delayMs = FIRST_RETRY_MS;
  const attempt = async (): Promise<void> => {
    try {
      await ready();
      if (failures > 0) logger.info({event: 'provider', failures}, 'identity provider reachable: hub-auth is ready');
    } catch (error) {
      failures += 1;
      // Not the provider's outage but a setting to change: said as such, at error level.
      if (error instanceof ProviderConfigurationError) {
        logger.error(
          {event: 'provider', failures, retryInSeconds: delayMs / 1000, reason: error.message},
          "hub-auth's configuration does not fit the identity provider: not ready (/readyz) until it is changed (then reload)",
        );
      } else
        logger.warn(
          {event: 'provider', failures, retryInSeconds: delayMs / 1000, reason: (error as Error).message},
          'cannot reach the identity provider: hub-auth keeps trying and is not ready (/readyz) until it can',
        );
      // unref: a service being stopped does not wait for the next try.
      setTimeout(() => void attempt(), delayMs).unref();
      delayMs = Math.min(delayMs * 2, MAX_RETRY_MS);
    }
  };
  void attempt();
}
