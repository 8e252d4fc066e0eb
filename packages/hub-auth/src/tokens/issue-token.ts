import {randomUUID} from 'node:crypto';
import type {TokenServiceConfig} from '../config.js';
import type {ResourceScope} from '@hub/protocol/resource-scope';
import type {Requester} from '../policy/acl.js';
import {refreshClaims} from './refresh-token.js';
import type {RegistryTokenSigner} from './signing.js';
import type {TokenReuse} from './token-reuse.js';
import type {TokenRequest} from './token-request.js';

export interface TokenResponse {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
}

export interface IssuedToken {
  response: TokenResponse;
  access: readonly ResourceScope[];
}

/** A registry token as reused: with its times, and issued_at as answers give it, made once. */
export interface SignedToken {
  token: string;
  /** Seconds since the epoch. */
  issuedAt: number;
  expiresAt: number;
  issuedAtText: string;
}

export interface IssueDeps {
  config: Pick<TokenServiceConfig, 'issuer' | 'service' | 'tokenLifetimeSeconds' | 'refreshTokens'>;
  signer: RegistryTokenSigner;
  /** The policy's answer: what of the scopes the requester gets (policy/acl.ts). */
  decide: (requester: Requester, scopes: readonly ResourceScope[]) => readonly ResourceScope[];
  tokenReuse: TokenReuse<SignedToken>;
  nowSeconds: () => number;
}

/**
 * A registry token for what the policy grants of what was asked (never an error for a scope the
 * user may not have: the registry then answers 401/403 itself, as the spec wants). The same grant
 * within the reuse window gets the same token (token-reuse.ts); a refresh token is always new.
 */
export function issueRegistryToken(deps: IssueDeps, request: TokenRequest): IssuedToken {
  const {config, signer} = deps;
  const now = deps.nowSeconds();
  const access = deps.decide(request.requester, request.scopes);
  const subject = request.requester.account ?? '';
  // Never before now: an access token is accepted until clockSkewSeconds past its exp, and a
  // token that ended before it was issued would tell the client a negative expires_in.
  const expiresAt = Math.max(now, Math.min(now + config.tokenLifetimeSeconds, request.notAfter ?? Infinity));
  const signed = deps.tokenReuse.tokenFor(subject, access, now, expiresAt, () => ({
    token: signer.sign({
      iss: config.issuer,
      sub: subject,
      // distribution 2.8 parses `aud` as a string only; an array would be refused.
      aud: config.service,
      exp: expiresAt,
      nbf: now,
      iat: now,
      jti: randomUUID(),
      access,
    }),
    issuedAt: now,
    expiresAt,
    issuedAtText: new Date(now * 1000).toISOString(),
  }));
  // A reused token keeps its times, so the client is told how long it really has left.
  const response: TokenResponse = {
    token: signed.token,
    access_token: signed.token,
    expires_in: signed.expiresAt - now,
    issued_at: signed.issuedAtText,
  };
  if (request.identity && request.requester.account) {
    response.refresh_token = signer.sign(
      refreshClaims(
        {account: request.requester.account, service: config.service, ...request.identity},
        config.issuer,
        now,
        config.refreshTokens,
      ),
    );
  }
  return {response, access};
}
