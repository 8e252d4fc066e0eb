import {join} from 'node:path';
import {lockFile} from '@hub/common/file-lock';
import type {IdentityToken} from '../registry/identity-token.js';
import type {Session, TokenStore} from '../store/session.js';

/**
 * The engine's credential for a push or a pull: docker's identity token, which the engine trades
 * at the realm for registry tokens for as long as the operation lasts, where the OIDC access token
 * may expire in the middle of it (minutes, at some providers). hub-auth bounds its lifetime
 * (refreshTokens.lifetimeSeconds). One is kept in the session and replaced once half of its
 * lifetime has passed, so an operation that starts with it has at least that half. It lives only
 * in the keychain: with the insecure file store there is none (a plain file would keep a
 * credential good for hours), and the access token serves as before.
 */

export interface IdentityTokenDeps {
  store: TokenStore;
  lockDir: string;
  nowSeconds: () => number;
  request: (registry: string, accessToken: string) => Promise<IdentityToken | undefined>;
}

/** The identity token for the session's registry, or undefined when its token service offers none. */
export async function identityTokenFor(session: Session, deps: IdentityTokenDeps): Promise<string | undefined> {
  if (halfLeft(session.identityToken, deps.nowSeconds())) return session.identityToken.token;
  if (deps.store.kind === 'insecure-file') return undefined;
  // The lock of the session's refreshes: the session is written back, and a refresh meanwhile must not be lost.
  const release = await lockFile(join(deps.lockDir, `${encodeURIComponent(session.registry)}.refresh`));
  try {
    const latest = await deps.store.read(session.registry);
    const samePerson = latest?.subject === session.subject && latest.issuer === session.issuer;
    if (samePerson && halfLeft(latest.identityToken, deps.nowSeconds())) return latest.identityToken.token;
    const fresh = await deps.request(session.registry, session.accessToken);
    if (fresh && samePerson) await deps.store.write({...latest, identityToken: fresh});
    return fresh?.token;
  } finally {
    await release();
  }
}

function halfLeft(token: IdentityToken | undefined, nowSeconds: number): token is IdentityToken {
  return token !== undefined && token.expiresAt - nowSeconds >= (token.expiresAt - token.issuedAt) / 2;
}
