import {describeSeconds} from '@hub/common/duration';
import type {SessionRecord} from './sessions.js';

/** What every refused identity token is told to do. */
export const SIGN_IN_AGAIN = 'sign in again (hub login, or docker login)';

/**
 * Whether an identity token's session still lets it be traded, checked in this order: it exists,
 * it was not ended, it was re-checked at the provider within the window. Each refusal says what
 * happened and what the person does next, since docker shows it as it is.
 */
export type SessionVerdict =
  {ok: true; session: SessionRecord} | {ok: false; reason: 'unknown' | 'revoked' | 'not rechecked'; message: string};

export function checkSession(session: SessionRecord | undefined, nowSeconds: number, revalidateSeconds: number): SessionVerdict {
  if (!session)
    return {
      ok: false,
      reason: 'unknown',
      message: `this sign-in is not known to the registry (any more): ${SIGN_IN_AGAIN}`,
    };
  if (session.revoked)
    return {
      ok: false,
      reason: 'revoked',
      message: `this sign-in was ended (${session.revoked.reason}): ${SIGN_IN_AGAIN}`,
    };
  if (nowSeconds - session.checkedAt > revalidateSeconds) {
    return {
      ok: false,
      reason: 'not rechecked',
      message: `this sign-in was last confirmed by the identity provider more than ${describeSeconds(revalidateSeconds)} ago: sign in again (docker login), or use hub's credential helper (hub login), which keeps it confirmed`,
    };
  }
  return {ok: true, session};
}
