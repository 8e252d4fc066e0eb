import type {FastifyInstance} from 'fastify';
import {TOKEN_REVOCATION} from '@hub/protocol/identity-token';
import {revokeIdentityToken} from '../../tokens/identity-sessions.js';
import {TokenRequestError} from '../../tokens/token-request.js';
import type {TokenServiceDeps} from '../../service-deps.js';

/**
 * RFC 7009 token revocation for hub-auth's own identity tokens, next to the realm (`/revoke`):
 * `hub logout` ends its session here, so that a copy taken before (docker's, a backup's) is refused
 * by every instance. The token is its own proof: whoever holds it may end it. What is not ours,
 * or not valid, is answered 200 like a revoked one (§2.2): the answer tells nothing about a token.
 */

/** An identity token is at most 8 KB (refresh-token.ts); the form around it, a little more. */
const BODY_LIMIT = 10 * 1024;

export function registerRevocationRoute(app: FastifyInstance, deps: TokenServiceDeps): void {
  app.post(`/${TOKEN_REVOCATION}`, {bodyLimit: BODY_LIMIT}, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const form = (request.body ?? {}) as Record<string, unknown>;
    // token_type_hint is only a hint (§2.1): one kind of token is ours, so it changes nothing.
    const token = form.token;
    if (typeof token !== 'string' || token === '') {
      return reply.code(400).send({
        error: 'invalid_request',
        error_description: 'the form field "token" (the identity token to revoke) is missing or given more than once',
      });
    }
    try {
      const ended = await revokeIdentityToken(deps, token);
      request.log.info({event: 'revoke', ended}, ended > 0 ? 'session ended: logged out' : 'revocation of no live session');
      return reply.code(200).send();
    } catch (error) {
      if (!(error instanceof TokenRequestError)) throw error;
      request.log.warn({event: 'revoke', reason: error.message}, 'revocation refused');
      return reply
        .code(error.status)
        .header('retry-after', String(error.retryAfterSeconds ?? 5))
        .send({error: error.oauthError, error_description: error.message});
    }
  });
}
