import type {FastifyInstance, FastifyReply} from 'fastify';
import {BACKCHANNEL_LOGOUT_PATH} from '@hub/protocol/hub-auth-endpoints';
import {InvalidTokenError} from '../../oidc/access-token-checks.js';
import {UpstreamError} from '../../oidc/introspection-gate.js';
import {verifyLogoutToken, type LogoutTokenOptions} from '../../oidc/verify-logout-token.js';
import {StoreUnavailableError} from '../../store/sql.js';
import type {TokenServiceDeps} from '../../service-deps.js';

/**
 * OpenID Connect Back-Channel Logout 1.0: the identity provider POSTs a `logout_token` here when a
 * person signs out there or is disabled, and the sign-in sessions it names end at once, on every
 * instance (sessions/provider-logout.ts), and so do the person's web hub sessions. The operator registers this URL as the hub client's
 * `backchannel_logout_uri` at the provider (README, Back-channel logout). Answers as §2.8 says:
 * 200 once the sessions have ended, 400 with a JSON error for a token that is not good, and 503
 * when hub-auth cannot act on it now (the store, or the provider's keys): the provider sends it
 * again then. The token itself is never logged.
 */

export function registerBackchannelLogoutRoute(app: FastifyInstance, deps: TokenServiceDeps): void {
  const {oidc, client} = deps.config;
  const options: LogoutTokenOptions = {
    issuer: oidc.issuer,
    audience: oidc.backchannelLogout.clientIds ?? [
      client.clientId,
      ...(client.deviceClientId ? [client.deviceClientId] : []),
      ...(deps.config.web.enabled && deps.config.web.clientId ? [deps.config.web.clientId] : []),
    ],
    clockSkewSeconds: oidc.clockSkewSeconds,
    algorithms: oidc.algorithms,
    keys: () => deps.verifier.providerKeys(),
    nowSeconds: deps.nowSeconds,
  };
  app.post(BACKCHANNEL_LOGOUT_PATH, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    try {
      const claims = await verifyLogoutToken(logoutTokenOf(request.body), options);
      const ended = await deps.providerLogouts.end(claims, deps.nowSeconds());
      deps.metrics.backchannelLogouts.inc('accepted');
      request.log.info(
        {
          event: 'backchannel logout',
          outcome: 'accepted',
          subject: claims.subject ?? null,
          providerSession: claims.providerSession ?? null,
          jti: claims.jti,
          ended: ended.length,
          accounts: [...new Set(ended.map((session) => session.account))],
        },
        `back-channel logout accepted: ended ${ended.length} session(s)`,
      );
      return reply.code(200).send();
    } catch (error) {
      return refuse(error, reply, deps);
    }
  });
}

function logoutTokenOf(body: unknown): string {
  const token = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).logout_token : undefined;
  if (typeof token !== 'string' || token === '')
    throw new InvalidTokenError('the request has no logout_token (one form field, application/x-www-form-urlencoded)');
  return token;
}

function refuse(error: unknown, reply: FastifyReply, deps: TokenServiceDeps): FastifyReply {
  const log = reply.request.log;
  if (error instanceof InvalidTokenError) {
    deps.metrics.backchannelLogouts.inc('refused');
    log.warn({event: 'backchannel logout', outcome: 'refused', reason: error.message}, 'back-channel logout refused: it ended nothing');
    return reply.code(400).send({error: 'invalid_request', error_description: error.message});
  }
  if (error instanceof StoreUnavailableError || error instanceof UpstreamError) {
    deps.metrics.backchannelLogouts.inc('unavailable');
    log.error(
      {event: 'backchannel logout', outcome: 'unavailable', reason: error.message},
      'back-channel logout not acted on now: answered 503, the identity provider sends it again',
    );
    return reply.code(503).send({
      error: 'temporarily_unavailable',
      error_description: `hub-auth cannot act on the logout now (${error.message}): send it again`,
    });
  }
  throw error;
}
