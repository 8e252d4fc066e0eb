import {Counter, Histogram, Registry, collectDefaultMetrics} from 'prom-client';

/** What /metrics shows: requests by grant and outcome, their latency, and the process's own. */
export interface TokenServiceMetrics {
  registry: Registry;
  requests: Counter<'grant' | 'outcome'>;
  duration: Histogram<'grant'>;
  checks: Counter<'method'>;
}

export function createMetrics(): TokenServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({register: registry});
  return {
    registry,
    requests: new Counter({
      name: 'hub_auth_token_requests_total',
      help: 'Token requests by grant (anonymous, password, refresh_token) and outcome (issued, unauthorized, bad_request, upstream_error)',
      labelNames: ['grant', 'outcome'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'hub_auth_token_request_duration_seconds',
      help: 'Time to answer a token request',
      labelNames: ['grant'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    checks: new Counter({
      name: 'hub_auth_access_token_checks_total',
      help: 'OIDC access token checks by how they were answered: cache, jwt (local signature check) or introspection',
      labelNames: ['method'],
      registers: [registry],
    }),
  };
}
