import {normalizeAccountName, type Requester} from './policy.js';
import type {VerifiedClaims} from './verify-access-token.js';

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
