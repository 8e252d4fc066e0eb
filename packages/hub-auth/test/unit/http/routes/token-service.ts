/** hub-auth's token app as the route tests drive it: a faked identity provider, a clock the test sets, a real store. */
import {Writable} from 'node:stream';
import {pino} from 'pino';
import {createApp, createMonitoringApp} from '../../../../src/http/app.js';
import type {TokenServiceDeps} from '../../../../src/service-deps.js';
import {accountBindings, type AccountBindings} from '../../../../src/accounts/bindings.js';
import {providerLogouts} from '../../../../src/sessions/provider-logout.js';
import {signInSessions, type Sessions} from '../../../../src/sessions/sessions.js';
import {webSessions} from '../../../../src/sessions/web-sessions.js';
import {revocations} from '../../../../src/sessions/revocations.js';
import {registryActivity} from '../../../../src/activity/registry-activity.js';
import {embedded} from '../../../stores.js';
import {parseConfig} from '../../../../src/config.js';
import {generateSigningMaterial} from '../../../../src/tokens/keygen.js';
import {createMetrics} from '../../../../src/metrics.js';
import {defaultPolicy} from '../../../../src/policy/acl.js';
import {verificationKeysFromJwks} from '../../../../src/tokens/refresh-token.js';
import {createSigner, verificationJwks} from '../../../../src/tokens/signing.js';
import {createTokenReuse} from '../../../../src/tokens/token-reuse.js';
import {InvalidTokenError, type VerifiedClaims} from '../../../../src/oidc/verify-access-token.js';
import {checkOpaqueShape} from '../../../../src/oidc/access-token-checks.js';
import {withRequestWiring} from '../../../../src/http/request-wiring.js';
import {workloadTokens, type WorkloadTokens} from '../../../../src/workloads/workload-tokens.js';

export const material = await generateSigningMaterial({algorithm: 'ES256', commonName: 'hub-auth route test', days: 30});
export const rawConfig = {
  service: 'registry.example.com',
  signing: {key: {value: material.privateKeyPem}, certificate: {value: material.certificatePem}},
  oidc: {issuer: 'https://id.example.com', audience: 'registry'},
  client: {clientId: 'hub-cli'},
  registry: {host: 'registry.example.com'},
  tokenReuseSeconds: 5,
};
export const config = parseConfig(rawConfig);

/** Each test user has one subject, so one store serves them all; the tests that bind a name to two subjects empty it first. */
export const store = await embedded.fresh();
const sharedBindings = accountBindings(store);
const sharedSessions = signInSessions(store);
const noWorkloads = await workloadTokens([], {timeoutSeconds: 1, cacheSize: 1, nowSeconds: () => 0});

export interface TokenAnswer {
  token?: string;
  access_token?: string;
  expires_in?: number;
  issued_at?: string;
  refresh_token?: string;
  errors?: Array<{code: string; message?: string}>;
  error?: string;
  error_description?: string;
}

/** hub-auth's app with a clock the test sets and an identity provider that knows `users` (by token). */
export function service(
  users: Record<string, {username: string; groups?: string[]; subject?: string; sid?: string}>,
  options: {
    bindings?: AccountBindings;
    sessions?: Sessions;
    config?: typeof config;
    listen?: Partial<typeof config.listen>;
    workloads?: WorkloadTokens;
  } = {},
) {
  const serviceConfig = options.config ?? config;
  let now = 1_900_000_000;
  /** The client address each check was made for. */
  const clients: string[] = [];
  const revoked = new Set<string>();
  const lines: Array<Record<string, unknown>> = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const jwks = verificationJwks([material.certificatePem], config.signing.keyId);
  const ends = revocations(store, options.sessions ?? sharedSessions, webSessions(store));
  const deps: TokenServiceDeps = withRequestWiring({
    config: {...serviceConfig, listen: {...serviceConfig.listen, ...options.listen}},
    signer: createSigner({
      privateKeyPem: material.privateKeyPem,
      certificatePem: material.certificatePem,
      keyIdFormat: 'libtrust',
      includeX5c: true,
    }),
    jwks,
    verificationKeys: verificationKeysFromJwks(jwks),
    verifier: {
      ready: async () => {},
      providerKeys: () => Promise.reject(new Error('no provider keys in these tests')),
      // What the real verifier answers for a token it has cached, and for one found bad.
      async verify(token, client): Promise<VerifiedClaims> {
        clients.push(client);
        const user = users[token];
        // A typed password ("typed …": a space no token has) meets the real shape check.
        if (token.startsWith('typed ')) checkOpaqueShape(token);
        if (!user || revoked.has(token)) throw new InvalidTokenError('the identity provider says the token is not active');
        return {
          subject: user.subject ?? `sub-${user.username}`,
          claims: {preferred_username: user.username, groups: user.groups ?? [], ...(user.sid ? {sid: user.sid} : {})},
          expiresAt: now + 600,
        };
      },
    },
    workloads: options.workloads ?? noWorkloads,
    rules: defaultPolicy({publicRepositories: []}),
    bindings: options.bindings ?? sharedBindings,
    sessions: options.sessions ?? sharedSessions,
    revocations: ends,
    providerLogouts: providerLogouts(store, ends, {clockSkewSeconds: 30}),
    activity: registryActivity(store),
    tokenReuse: createTokenReuse({windowSeconds: config.tokenReuseSeconds, maxEntries: config.cacheSize}),
    metrics: createMetrics(),
    logger: pino({level: 'info'}, logStream),
    nowSeconds: () => now,
    ready: async () => {},
  });
  const app = createApp(deps);
  /** A form POSTed to `path`, as docker and hub send them. */
  async function post(path: string, form: Record<string, string>) {
    const response = await app.inject({
      method: 'POST',
      url: path,
      payload: new URLSearchParams(form).toString(),
      headers: {'content-type': 'application/x-www-form-urlencoded'},
    });
    return {status: response.statusCode, headers: response.headers, body: response.body ? response.json<TokenAnswer>() : undefined};
  }
  return {
    app,
    clients,
    monitoring: createMonitoringApp(deps),
    lines,
    tick: (seconds: number) => (now += seconds),
    revoke: (token: string) => revoked.add(token),
    async get(
      token: string | undefined,
      scope: string,
      extra = '',
      headers: Record<string, string> = {},
    ): Promise<{status: number; body: TokenAnswer}> {
      const response = await app.inject({
        url: `/token?service=registry.example.com&scope=${encodeURIComponent(scope)}${extra}`,
        headers: {...headers, ...(token === undefined ? {} : {authorization: `Basic ${Buffer.from(`user:${token}`).toString('base64')}`})},
      });
      return {status: response.statusCode, body: response.json()};
    },
    now: () => now,
    post,
    /** docker's identity-token request: POST /token with hub-auth's own refresh token. */
    async refresh(refreshToken: string | undefined, scope: string): Promise<{status: number; body: TokenAnswer}> {
      const {status, body} = await post('/token', {
        grant_type: 'refresh_token',
        service: 'registry.example.com',
        scope,
        refresh_token: refreshToken ?? '',
      });
      return {status, body: body ?? {}};
    },
  };
}
