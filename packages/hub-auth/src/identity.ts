import {BUILT_IN_RESERVED_NAMES, namespaceNameProblem, ROBOTS_NAMESPACE} from './namespaces.js';
import type {Requester} from './policy.js';
import type {VerifiedClaims} from './verify-access-token.js';
import {remembered} from './remember.js';

/**
 * Who the registry should think the caller is. A person's account is the value of the configured
 * username claim (then `username`, as introspection names it, then the subject), taken as it is:
 * a value that is not already a valid namespace name is refused, never rewritten, since a rewrite
 * (`Alice`, `alice_`, `alice@` → `alice`) would hand one person's namespace to another. A robot
 * (a client credentials token, whose subject is its client id, RFC 9068 §2.2) is `robots/<id>`.
 */

/** The identity provider's identity of the caller: what an account name is bound to (bindings.ts). */
export interface Holder {
  issuer: string;
  subject: string;
}

export interface ReadIdentity {
  requester: Requester & {account: string};
  holder: Holder;
  /** Groups the token names that cannot name a namespace as they are: they grant nothing. */
  ignoredGroups: string[];
}

export interface IdentityRules {
  issuer: string;
  usernameClaim: string;
  groupsClaim: string;
  /** On top of the built-in reserved names. */
  reservedNames: readonly string[];
}

/** A token that is valid but names no acceptable account: the user is told why, the operator too. */
export class RefusedIdentityError extends Error {
  override name = 'RefusedIdentityError';

  constructor(
    /** For the user: what is wrong and that the operator can fix it. */
    message: string,
    /** For the operator's log: which claim, and why. Never the token. */
    readonly log: {claim: string; reason: string; subject: string},
  ) {
    super(message);
  }
}

export function identityFromClaims(verified: VerifiedClaims, rules: IdentityRules, reserved: ReadonlySet<string>): ReadIdentity {
  const {claims, subject} = verified;
  const holder = {issuer: rules.issuer, subject};
  const groups = groupsFrom(claims[rules.groupsClaim]);
  if (typeof claims.client_id === 'string' && claims.client_id === subject) {
    const problem = namespaceNameProblem(subject);
    if (problem) throw refusal(`the client id ${JSON.stringify(subject)} ${problem}`, 'client_id', problem, subject);
    return {requester: {account: `${ROBOTS_NAMESPACE}/${subject}`, groups: groups.usable}, holder, ignoredGroups: groups.ignored};
  }
  const [claim, name] = usernameOf(verified, rules.usernameClaim);
  const problem = namespaceNameProblem(name) ?? (reserved.has(name) ? 'is reserved on this registry' : undefined);
  if (problem) throw refusal(`your username ${JSON.stringify(name)} (claim ${claim}) ${problem}`, claim, problem, subject);
  return {requester: {account: name, groups: groups.usable}, holder, ignoredGroups: groups.ignored};
}

/**
 * identityFromClaims with the rules fixed, remembered per claims object: the verifier hands out
 * the same object for every request with one access token, so a push that asks for dozens of
 * registry tokens reads the claims once. A refusal is not remembered: it is the rare case.
 */
export function identityReader(rules: IdentityRules): (verified: VerifiedClaims) => ReadIdentity {
  const reserved = new Set([...BUILT_IN_RESERVED_NAMES, ...rules.reservedNames]);
  const read = new WeakMap<VerifiedClaims, ReadIdentity>();
  return (verified) => remembered(read, verified, () => identityFromClaims(verified, rules, reserved));
}

function usernameOf(verified: VerifiedClaims, usernameClaim: string): [claim: string, name: string] {
  for (const claim of [usernameClaim, 'username']) {
    const value = verified.claims[claim];
    if (typeof value === 'string' && value !== '') return [claim, value];
  }
  return ['sub', verified.subject];
}

function refusal(what: string, claim: string, reason: string, subject: string): RefusedIdentityError {
  return new RefusedIdentityError(`${what}, so it cannot be your namespace on this registry: ask the registry's operator to map your account`, {
    claim,
    reason,
    subject,
  });
}

/**
 * Group names as they are; Keycloak's full paths lose their leading '/' (`/dev` is `dev`). A name
 * that is not a namespace name as it is grants nothing: merging `Dev` into `dev` would merge two
 * groups.
 */
function groupsFrom(raw: unknown): {usable: string[]; ignored: string[]} {
  const names = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[\s,]+/) : [];
  const usable = new Set<string>();
  const ignored: string[] = [];
  for (const name of names) {
    if (typeof name !== 'string' || name === '') continue;
    const group = name.startsWith('/') ? name.slice(1) : name;
    if (namespaceNameProblem(group) === undefined) usable.add(group);
    else ignored.push(name);
  }
  return {usable: [...usable], ignored};
}
