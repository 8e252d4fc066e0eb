import {destination, pino, type Logger} from 'pino';
import {createApp, createMonitoringApp} from './app.js';
import type {TokenServiceDeps} from '../service-deps.js';
import {accountBindings} from '../accounts/bindings.js';
import {providerLogouts} from '../sessions/provider-logout.js';
import {signInSessions} from '../sessions/sessions.js';
import {sessionChanges} from '../sessions/session-changes.js';
import {webSessions} from '../sessions/web-sessions.js';
import {revocations} from '../sessions/revocations.js';
import {registryActivity} from '../activity/registry-activity.js';
import {readSecret, type TokenServiceConfig} from '../config.js';
import {createMetrics, type TokenServiceMetrics} from '../metrics.js';
import {defaultPolicy} from '../policy/acl.js';
import {loadSigningKeys} from '../tokens/signing-keys.js';
import {createTokenReuse} from '../tokens/token-reuse.js';
import {createAccessTokenVerifier} from '../oidc/verify-access-token.js';
import type {Store} from '../store/open-store.js';
import {workloadTokens} from '../workloads/workload-tokens.js';
import {withRequestWiring} from './request-wiring.js';
import type {AdminAccess} from './routes/admin.js';

export function createLogger(level = process.env.HUB_AUTH_LOG_LEVEL ?? 'info'): Logger {
  // Tokens travel in Authorization headers and form bodies; neither is ever logged. Lines are
  // written in synchronous batches of 4 KB (flushed every second when traffic is light): a busy
  // service writes cheaply, and a log reader that falls behind slows it down instead of filling
  // its memory.
  const stream = destination({dest: 1, sync: true, minLength: 4096});
  setInterval(() => stream.flush(), 1000).unref();
  return pino({level, redact: {paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]'}}, stream);
}

/**
 * Reads the secrets a configuration names and builds the token app and the monitoring app from
 * them, on the store opened at start (store/open-store.ts: a reload keeps it). `metrics` is given
 * by a reload (reload.ts), so that the counts go on; `admin` by the start only, since a reload keeps
 * the monitoring listener and its admin API as they are.
 */
export async function createTokenService(
  config: TokenServiceConfig,
  store: Store,
  logger: Logger = createLogger(),
  env: NodeJS.ProcessEnv = process.env,
  metrics: TokenServiceMetrics = createMetrics(),
  admin?: AdminAccess,
) {
  const keys = await loadSigningKeys(config.signing, env);
  const introspection = config.oidc.introspection && {
    ...config.oidc.introspection,
    clientSecret: await readSecret(config.oidc.introspection.clientSecret, 'oidc.introspection.clientSecret', env),
  };
  metrics.showSigningCertificates(keys.certificates);
  const verifier = createAccessTokenVerifier({
    issuer: config.oidc.issuer,
    audience: config.oidc.audience,
    algorithms: config.oidc.algorithms,
    clockSkewSeconds: config.oidc.clockSkewSeconds,
    endpoints: {...config.oidc.endpoints, jwks: config.oidc.jwksUri},
    introspection,
    userinfo: config.oidc.userinfo,
    timeoutSeconds: config.oidc.timeoutSeconds,
    cacheSize: config.cacheSize,
    onCheck: (method) => metrics.checks.inc(method),
  });
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const workloads = await workloadTokens(config.workloads.issuers, {
    timeoutSeconds: config.oidc.timeoutSeconds,
    cacheSize: config.cacheSize,
    nowSeconds,
  });
  const bindings = accountBindings(store, {
    maxEntries: config.cacheSize,
    importFile: config.accounts.bindingsFile,
    onImported: (imported) =>
      logger.info(
        {event: 'store', ...imported},
        'imported the bindings file into the store: it is left as it was, and no longer read or written',
      ),
  });
  const changes = sessionChanges(store, (reason) =>
    logger.warn(
      {event: 'store', reason},
      "cannot hear the store's word of changed sessions: every refresh grant and web page reads its session until it can again",
    ),
  );
  const sessions = signInSessions(store, {maxRemembered: config.cacheSize, changes});
  const web = webSessions(store, {maxRemembered: config.cacheSize, changes});
  const ends = revocations(store, sessions, web);
  const webClientSecret = config.web.enabled ? await readSecret(config.web.clientSecret!, 'web.clientSecret', env) : undefined;
  const notificationsToken =
    config.registryNotifications && (await readSecret(config.registryNotifications.token, 'registryNotifications.token', env));
  const deps: TokenServiceDeps = withRequestWiring({
    config,
    signer: keys.signer,
    jwks: keys.jwks,
    verificationKeys: keys.verificationKeys,
    verifier,
    workloads,
    rules: config.policy.rules ?? defaultPolicy({publicRepositories: config.policy.publicRepositories}),
    bindings,
    sessions,
    revocations: ends,
    providerLogouts: providerLogouts(store, ends, {clockSkewSeconds: config.oidc.clockSkewSeconds}),
    activity: registryActivity(store),
    tokenReuse: createTokenReuse({windowSeconds: config.tokenReuseSeconds, maxEntries: config.cacheSize}),
    metrics,
    logger,
    nowSeconds,
    ready: async () => {
      await Promise.all([verifier.ready(), bindings.ready()]);
    },
  });
  return {
    app: createApp(deps, webClientSecret === undefined ? undefined : {clientSecret: webClientSecret, sessions: web}, notificationsToken),
    monitoring: createMonitoringApp(deps, admin),
    ready: deps.ready,
    /** Ready as far as the identity provider goes: what provider-watch.ts waits for and names. */
    providerReady: () => verifier.ready(),
    metrics,
    keys,
    /** /readyz follows another service's readiness from now on: the one a reload built. */
    followReadiness(ready: () => Promise<void>): void {
      deps.ready = ready;
    },
  };
}
