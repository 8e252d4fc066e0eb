import type {AccountBindings} from '../accounts/bindings.js';
import type {TokenServiceConfig} from '../config.js';
import {checkSession, SIGN_IN_AGAIN} from '../sessions/session-check.js';
import type {IssuedIdentity, Sessions} from '../sessions/sessions.js';
import {StoreUnavailableError} from '../store/sql.js';
import type {Caller} from './caller.js';
import {readRefreshToken, signedRefreshToken, type VerificationKey} from './refresh-token.js';
import {STORE_UNAVAILABLE, TokenRequestError} from './token-request.js';
import {quoted} from '@hub/common/quote';

/**
 * hub-auth's identity tokens and the sign-in sessions they stand for, as the token endpoints use
 * them: which session a new one is issued for, what trading one (the refresh grant) is allowed,
 * and ending one's session (RFC 7009 revocation). The session row decides; the token only names it.
 */

export interface IdentitySessionDeps {
  config: Pick<TokenServiceConfig, 'issuer' | 'service' | 'refreshTokens'>;
  verificationKeys: readonly VerificationKey[];
  sessions: Sessions;
  bindings: Pick<AccountBindings, 'holds'>;
  nowSeconds: () => number;
}

/** Where a sign-in came from: the form's client_id and the client's address. */
export interface SignInOrigin {
  client: string;
  address: string;
  /** The identity token the client already holds (hub's), whose session this continues. */
  presented?: string | undefined;
}

/**
 * The session a new identity token is issued for: the presented token's, when it is live and the
 * same holder's (hub re-trading a fresh provider token, which re-checks that session), else a new one.
 */
export async function identityFor(deps: IdentitySessionDeps, caller: Caller, origin: SignInOrigin): Promise<IssuedIdentity> {
  const nowSeconds = deps.nowSeconds();
  const expiresAt = nowSeconds + deps.config.refreshTokens.lifetimeSeconds;
  const presented =
    origin.presented === undefined ? undefined : readRefreshToken(origin.presented, deps.verificationKeys, {...expected(deps), nowSeconds});
  const continued =
    presented &&
    (await storeAnswers(deps.sessions.extend(presented.sessionId, caller.holder, caller.requester.groups, nowSeconds, expiresAt)));
  return (
    continued ??
    storeAnswers(
      deps.sessions.start({
        holder: caller.holder,
        account: caller.requester.account,
        groups: caller.requester.groups,
        // Stored and shown to operators: a client's idea of its name is kept short.
        client: origin.client.slice(0, 100),
        address: origin.address,
        providerSession: caller.providerSession,
        nowSeconds,
        expiresAt,
      }),
    )
  );
}

/**
 * Who trades this identity token: its session's holder, account and groups, when the session is
 * live, re-checked within refreshTokens.revalidateSeconds and its account still bound to that
 * holder. Never a claim: a name released since is nobody's, and a copied token of its old holder
 * must not take it back. Every refusal says what to do.
 */
export async function refreshGrantCaller(deps: IdentitySessionDeps, token: string): Promise<Omit<Caller, 'providerSession'>> {
  const nowSeconds = deps.nowSeconds();
  const contents = readRefreshToken(token, deps.verificationKeys, {...expected(deps), nowSeconds});
  if (!contents) throw refused(`the identity token is not valid or has expired: ${SIGN_IN_AGAIN}`);
  const verdictOf = async (fresh: boolean) =>
    checkSession(
      await storeAnswers(deps.sessions.ofToken(contents.tokenId, {fresh})),
      nowSeconds,
      deps.config.refreshTokens.revalidateSeconds,
    );
  // A row this instance remembers is live and unchanged since (sessions.ts), but its re-check may
  // be older than one made at another instance: that refusal is decided on the row as it is now.
  let verdict = await verdictOf(false);
  if (!verdict.ok && verdict.reason === 'not rechecked') verdict = await verdictOf(true);
  if (!verdict.ok) throw refused(verdict.message);
  const {session} = verdict;
  if (session.id !== contents.sessionId) throw refused(`the identity token does not belong to its sign-in: ${SIGN_IN_AGAIN}`);
  if (!(await storeAnswers(deps.bindings.holds(session.account, session.holder))))
    throw refused(
      `the account name ${quoted(session.account)} is no longer bound to this sign-in (the registry's operator released it): ${SIGN_IN_AGAIN}`,
    );
  await storeAnswers(deps.sessions.touch(session.id, nowSeconds));
  return {requester: {account: session.account, groups: session.groups}, holder: session.holder, notAfter: contents.expiresAt};
}

/**
 * Ends the session of one of our identity tokens (expired ones too: it still names its session);
 * anything else is not ours to revoke, and RFC 7009 §2.2 answers it as revoked. The sessions
 * ended, 0 or 1.
 */
export async function revokeIdentityToken(deps: IdentitySessionDeps, token: string): Promise<number> {
  const contents = signedRefreshToken(token, deps.verificationKeys, expected(deps));
  if (!contents) return 0;
  return (await storeAnswers(deps.sessions.revoke({session: contents.sessionId}, 'logged out', deps.nowSeconds()))).length;
}

function expected(deps: IdentitySessionDeps) {
  return {issuer: deps.config.issuer, service: deps.config.service};
}

function refused(message: string): TokenRequestError {
  return new TokenRequestError(401, 'invalid_grant', message);
}

/** A store that cannot answer decides nothing: 503, try again, never an allow. */
async function storeAnswers<T>(answer: Promise<T>): Promise<T> {
  try {
    return await answer;
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    throw new TokenRequestError(503, 'temporarily_unavailable', 'the registry cannot check sign-ins just now; try again', {
      retryAfterSeconds: 5,
      outcome: STORE_UNAVAILABLE,
      operatorNote: {reason: `store: ${error.message}`},
    });
  }
}
