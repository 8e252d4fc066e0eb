import {normalizeAccountName, type Requester} from './policy.js';
import type {VerifiedClaims} from './verify-access-token.js';
import {remembered} from './remember.js';

/**
 * Who the registry should think the user is: the configured username claim (then `username`,
 * as introspection names it, then the subject) made into one valid repository path component,
 * and the groups claim the same way, so that `${account}/*` and `${group}/*` are real names.
 */
export function requesterFromClaims(verified: VerifiedClaims, usernameClaim: string, groupsClaim: string): Requester & {account: string} {
  const {claims} = verified;
  const candidates = [claims[usernameClaim], claims.username, verified.subject];
  const account = candidates.map((c) => (typeof c === 'string' ? normalizeAccountName(c) : undefined)).find(Boolean);
  if (!account) throw new Error('no usable username in the token');
  const rawGroups = claims[groupsClaim];
  const groups = (Array.isArray(rawGroups) ? rawGroups : typeof rawGroups === 'string' ? rawGroups.split(/[\s,]+/) : [])
    .map((g) => (typeof g === 'string' ? normalizeAccountName(g.replace(/^\//, '')) : undefined))
    .filter((g): g is string => Boolean(g));
  return {account, groups: [...new Set(groups)]};
}

/**
 * requesterFromClaims with the claim names fixed, remembered per claims object: the verifier
 * hands out the same object for every request with one access token, so a push that asks for
 * dozens of registry tokens reads the claims once.
 */
export function requesterReader(usernameClaim: string, groupsClaim: string): (verified: VerifiedClaims) => Requester & {account: string} {
  const read = new WeakMap<VerifiedClaims, Requester & {account: string}>();
  return (verified) => remembered(read, verified, () => requesterFromClaims(verified, usernameClaim, groupsClaim));
}
