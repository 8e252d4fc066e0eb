import {BUILT_IN_RESERVED_NAMES, namespaceNameProblem, ROBOTS_NAMESPACE} from '../namespaces.js';
import type {Holder} from '../holder.js';
import type {Requester} from '../policy/acl.js';
import type {VerifiedClaims} from '../oidc/verify-access-token.js';
import {remembered} from '../remember.js';
import {quoted} from '@hub/common/quote';

/**
 * Who the registry should think the caller is. A person's account is the value of the configured
 * username claim (then `username`, as introspection names it, then the subject), taken as it is:
 * a value that is not already a valid namespace name is refused, never rewritten, since a rewrite
 * (`Alice`, `alice_`, `alice@` → `alice`) would hand one person's namespace to another. A robot
 * (a client credentials token, whose subject is its client id, RFC 9068 §2.2) is `robots/<id>`.
 *
 * An introspection answer may name no subject (RFC 7662): the username claim is then the only
 * name the provider gives, and the account is bound to it (`username:<name>`, which no
 * provider's `sub` of the same issuer is taken for: see SECURITY.md).
 */

/** What the claims of one verified access token come to: who the policy sees, and whose account it is. */
export interface RequesterAndHolder {
  requester: Requester & {account: string};
  holder: Holder;
  /** Groups the token names that cannot name a namespace as they are: they grant nothing. */
  ignoredGroups: string[];
}

export interface ClaimRules {
  issuer: string;
  usernameClaim: string;
  groupsClaim: string;
  /** On top of the built-in reserved names. */
  reservedNames: readonly string[];
  /** Clients whose tokens with no user in them are that robot (accounts.robotClients). */
  robotClients: readonly string[];
}

/** A token that is valid but names no acceptable account: the user is told why, the operator too. */
export class RefusedAccountError extends Error {
  override name = 'RefusedAccountError';

  constructor(
    /** For the user: what is wrong and that the operator can fix it. */
    message: string,
    /** For the operator's log: which claim, and why. Never the token. */
    readonly log: {claim: string; reason: string; subject: string},
  ) {
    super(message);
  }
}

export function requesterFromClaims(verified: VerifiedClaims, rules: ClaimRules, reserved: ReadonlySet<string>): RequesterAndHolder {
  const {claims, subject} = verified;
  const groups = groupsFrom(claims[rules.groupsClaim]);
  const robot = robotClientOf(verified, rules);
  if (robot !== undefined) {
    const holder = {issuer: rules.issuer, subject: robot};
    const problem = namespaceNameProblem(robot);
    if (problem) throw refusal(`the client id ${quoted(robot)} ${problem}`, 'client_id', problem, robot);
    return {requester: {account: `${ROBOTS_NAMESPACE}/${robot}`, groups: groups.usable}, holder, ignoredGroups: groups.ignored};
  }
  const [claim, name] = usernameOf(verified, rules.usernameClaim);
  const holder = {issuer: rules.issuer, subject: subject ?? `${SUBJECTLESS_PREFIX}${name}`};
  const problem = namespaceNameProblem(name) ?? (reserved.has(name) ? 'is reserved on this registry' : undefined);
  if (problem) throw refusal(`your username ${quoted(name)} (claim ${claim}) ${problem}`, claim, problem, holder.subject);
  return {requester: {account: name, groups: groups.usable}, holder, ignoredGroups: groups.ignored};
}

/**
 * The holder of an account whose token names no subject. A real `sub` that happens to read the
 * same is told apart by the provider never sending both kinds for one person; see SECURITY.md.
 */
export const SUBJECTLESS_PREFIX = 'username:';

/**
 * requesterFromClaims with the rules fixed, remembered per claims object: the verifier hands out
 * the same object for every request with one access token, so a push that asks for dozens of
 * registry tokens reads the claims once. A refusal is not remembered: it is the rare case.
 */
export function requesterReader(rules: ClaimRules): (verified: VerifiedClaims) => RequesterAndHolder {
  const reserved = new Set([...BUILT_IN_RESERVED_NAMES, ...rules.reservedNames]);
  const read = new WeakMap<VerifiedClaims, RequesterAndHolder>();
  return (verified) => remembered(read, verified, () => requesterFromClaims(verified, rules, reserved));
}

/**
 * The client id of a robot's token: one whose subject is its client (RFC 9068 §2.2), or, since
 * RFC 7662 lets an introspection answer leave out `sub`, one issued to a client the operator
 * names a robot (accounts.robotClients) with no user in it. Its holder is then the client id, as
 * it would be with the subject.
 */
function robotClientOf({subject, claims}: VerifiedClaims, rules: ClaimRules): string | undefined {
  const clientId = claims.client_id;
  if (typeof clientId !== 'string' || clientId === '') return undefined;
  if (subject !== undefined) return subject === clientId ? clientId : undefined;
  const namesUser = [rules.usernameClaim, 'username'].some((claim) => typeof claims[claim] === 'string' && claims[claim] !== '');
  return rules.robotClients.includes(clientId) && !namesUser ? clientId : undefined;
}

function usernameOf(verified: VerifiedClaims, usernameClaim: string): [claim: string, name: string] {
  const candidates = [...new Set([usernameClaim, 'username'])];
  for (const claim of candidates) {
    const value = verified.claims[claim];
    if (typeof value === 'string' && value !== '') return [claim, value];
  }
  if (verified.subject !== undefined) return ['sub', verified.subject];
  // Claim names, never their values: the operator learns which claim to configure.
  const present = Object.keys(verified.claims).sort().join(', ') || 'none';
  throw new RefusedAccountError(
    `the identity provider names no user for your token (no sub, nor ${candidates.join(' or ')}; it sent ${present}): ask the registry's operator to set oidc.usernameClaim to the claim that names you`,
    {claim: candidates.join(','), reason: `absent, and no sub (claims present: ${present})`, subject: '(none)'},
  );
}

function refusal(what: string, claim: string, reason: string, subject: string): RefusedAccountError {
  return new RefusedAccountError(
    `${what}, so it cannot be your namespace on this registry: ask the registry's operator to map your account`,
    {
      claim,
      reason,
      subject,
    },
  );
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
