import type {ResourceScope} from '@hub/protocol/resource-scope';
import {BUILT_IN_RESERVED_NAMES, GROUPS_NAMESPACE, LIBRARY_NAMESPACE} from '../namespaces.js';
import {remembered} from '../remember.js';
import type {Grantee, NamespaceGrant} from '@hub/web';

/**
 * One access-control rule. Rules are ordered and the first whose `match` fits a requested scope
 * decides it alone, so a narrow rule must come before a broad one it should override.
 *
 * Globs: `*` matches any run of characters, '/' included; everything else is literal. In `name`,
 * `${account}` stands for the requester's account and `${group}` for any of the requester's groups
 * that also match `group`.
 */
export interface AclRule {
  match: {
    /** Glob; absent means any authenticated account. */
    account?: string;
    /** Glob; the requester must belong to a matching group. */
    group?: string;
    /** Glob; absent means any name. */
    name?: string;
    /** Resource type; absent means 'repository'. */
    type?: string;
    /** True matches only anonymous requesters; any other rule never matches them. */
    anonymous?: boolean;
  };
  /** `*` grants every action, including a requested `*`. */
  actions: string[];
  comment?: string;
}

export interface Requester {
  /** Undefined for an anonymous requester. */
  account?: string;
  groups: readonly string[];
}

const PLACEHOLDER = /\$\{(account|group)\}/;

interface PlaceholderValues {
  account?: string | undefined;
  group?: string | undefined;
}

/**
 * Grants, for each requested scope, the requested actions the first fitting rule allows. A scope
 * no rule fits gets nothing, and scopes left with no action are omitted from the result.
 */
export function decide(rules: readonly AclRule[], requester: Requester, scopes: readonly ResourceScope[]): ResourceScope[] {
  const entries: ResourceScope[] = [];
  for (const scope of scopes) {
    const rule = rules.find((candidate) => ruleFits(candidate, requester, scope));
    const actions = rule === undefined ? [] : grantedActions(scope.actions, rule.actions);
    if (actions.length > 0) entries.push(accessEntry(scope, actions));
  }
  return entries;
}

/**
 * The names a requester may take `action` on under these rules, as globs with the requester's
 * account and groups put in (`alice/*`, `groups/dev/*`, `library/*`), in the rules' order: what a
 * refused push or pull tells the person (NAMESPACE_LISTING), and the namespaces `hub images` reads
 * fresh. A rule is listed as it reads: an earlier one narrowing it is not subtracted.
 */
export function namesGranted(rules: readonly AclRule[], requester: Requester & {account: string}, action: string): string[] {
  const names = new Set<string>();
  for (const rule of rules) {
    const {match} = rule;
    if ((match.type ?? 'repository') !== 'repository' || !accountFits(rule, requester)) continue;
    if (!rule.actions.includes('*') && !rule.actions.includes(action)) continue;
    const groups = groupsFitting(match.group, requester.groups);
    if (match.group !== undefined && groups.length === 0) continue;
    const glob = (match.name ?? '*').replaceAll('${account}', requester.account);
    for (const name of glob.includes('${group}') ? groups.map((group) => glob.replaceAll('${group}', group)) : [glob]) names.add(name);
  }
  return [...names];
}

/** A component no rule names: a probe for "any repository directly under the namespace". */
const PROBE = 'x0';

/**
 * Who the rules let pull, push (or more) under `namespace`, rule by rule in their order, as they
 * read: the first rule that fits a person and a name decides, so an earlier line can narrow a
 * later one for that person. A rule with `${account}` or `${group}` in its name counts where the
 * namespace is that account's or group's; one that names only some names under the namespace
 * (`team/web-*`) says so.
 */
export function namespaceAccess(rules: readonly AclRule[], namespace: string): NamespaceGrant[] {
  const grants: NamespaceGrant[] = [];
  for (const rule of rules) {
    const {match} = rule;
    if ((match.type ?? 'repository') !== 'repository') continue;
    const glob = match.name ?? '*';
    const bound = placeholdersBinding(glob, `${namespace}/${PROBE}`);
    const partly = bound === undefined && literalHead(glob).startsWith(`${namespace}/`);
    if (bound === undefined && !partly) continue;
    const who = granteeOf(rule, bound ?? {});
    if (who) grants.push({who, actions: [...rule.actions], ...(partly ? {names: glob} : {})});
  }
  return grants;
}

function granteeOf({match}: AclRule, bound: PlaceholderValues): Grantee | undefined {
  if (match.anonymous) return {kind: 'anonymous'};
  if (bound.account !== undefined)
    return match.account === undefined || globMatches(match.account, bound.account) ? {kind: 'account', name: bound.account} : undefined;
  if (bound.group !== undefined)
    return match.group === undefined || globMatches(match.group, bound.group) ? {kind: 'group', name: bound.group} : undefined;
  return {
    kind: 'signed-in',
    ...(match.account === undefined ? {} : {accounts: match.account}),
    ...(match.group === undefined ? {} : {groups: match.group}),
  };
}

/** The values `${account}` and `${group}` take for the glob to fit `name` (each one path component), or undefined when it cannot. */
function placeholdersBinding(glob: string, name: string): PlaceholderValues | undefined {
  const parts = translatedNameGlob(glob);
  const names: Array<keyof PlaceholderValues> = [];
  let source = parts[0]!;
  for (let index = 1; index < parts.length; index += 2) {
    names.push(parts[index] as keyof PlaceholderValues);
    source += '([^/]+)' + parts[index + 1]!;
  }
  const found = new RegExp(`^(?:${source})$`, 's').exec(name);
  if (!found) return undefined;
  const values = names.map((key, index) => [key, found[index + 1]!] as const);
  // No account is called like a reserved prefix: `${account}/*` says nothing of `groups/dev`.
  if (values.some(([key, value]) => key === 'account' && BUILT_IN_RESERVED_NAMES.includes(value))) return undefined;
  return Object.fromEntries(values);
}

/** The literal text a glob starts with, up to its first wildcard or placeholder. */
function literalHead(glob: string): string {
  const stop = glob.search(/\*|\$\{/);
  return stop === -1 ? glob : glob.slice(0, stop);
}

/**
 * decide with these rules, remembering its answer for each requester and scope list it is given:
 * the token route gets one requester object per access token (requesterReader) and one scope list
 * per scope text (rememberingScopeParser), so a request repeated, as docker repeats them, is
 * answered without matching any rule. Held weakly, the answers go with those objects. The
 * answers are shared: read them, never change them.
 */
export function rememberingDecider(
  rules: readonly AclRule[],
): (requester: Requester, scopes: readonly ResourceScope[]) => readonly ResourceScope[] {
  const answers = new WeakMap<Requester, WeakMap<readonly ResourceScope[], readonly ResourceScope[]>>();
  return (requester, scopes) =>
    remembered(
      remembered(answers, requester, () => new WeakMap()),
      scopes,
      () => decide(rules, requester, scopes),
    );
}

/**
 * The default policy. Public repositories come first, so that no namespace rule can add push to
 * a repository anyone may pull anonymously (under this policy nobody pushes to them: publish them
 * with `policy.rules`). Then `library`, read-only. Then the owners: each user owns the namespace
 * named after their account (a robot's account is `robots/<client-id>`, so that is its
 * namespace), each group's members share `groups/<group>`. Account names are single path
 * components outside the reserved names (accounts/requester.ts), so these namespaces never overlap.
 * There is no catalog rule: listing every repository is for rules that grant it explicitly.
 */
export function defaultPolicy(options: {publicRepositories: readonly string[]}): AclRule[] {
  return [
    ...options.publicRepositories.flatMap((name): AclRule[] => [
      {
        match: {name},
        actions: ['pull'],
        comment: `Public: signed-in users pull ${name} too, since docker sends their credentials.`,
      },
      {
        match: {anonymous: true, name},
        actions: ['pull'],
        comment: `Public: ${name} can be pulled without signing in.`,
      },
    ]),
    {
      match: {name: `${LIBRARY_NAMESPACE}/*`},
      actions: ['pull'],
      comment: 'Shared base images: every signed-in user pulls them, nobody pushes under the default policy.',
    },
    {
      match: {name: '${account}/*'},
      actions: ['*'],
      comment: 'Each user (and each robot, under robots/) has a namespace of their own.',
    },
    {
      match: {name: `${GROUPS_NAMESPACE}/\${group}/*`},
      actions: ['*'],
      comment: 'Members of a group share its namespace under groups/.',
    },
  ];
}

function ruleFits(rule: AclRule, requester: Requester, scope: ResourceScope): boolean {
  const {match} = rule;
  if ((match.type ?? 'repository') !== scope.type || !accountFits(rule, requester)) return false;
  const groups = groupsFitting(match.group, requester.groups);
  if (match.group !== undefined && groups.length === 0) return false;
  return match.name === undefined || nameFits(match.name, scope.name, requester.account, groups);
}

function groupsFitting(glob: string | undefined, groups: readonly string[]): readonly string[] {
  return glob === undefined ? groups : groups.filter((group) => globMatches(glob, group));
}

function accountFits({match}: AclRule, {account}: Requester): boolean {
  if (account === undefined) return match.anonymous === true && match.account === undefined;
  return match.anonymous !== true && (match.account === undefined || globMatches(match.account, account));
}

/** With `${group}` in the glob, any one of the candidate groups making the name fit is enough. */
function nameFits(glob: string, name: string, account: string | undefined, groups: readonly string[]): boolean {
  if (!glob.includes('${group}')) return placeholderGlobMatches(glob, name, {account});
  return groups.some((group) => placeholderGlobMatches(glob, name, {account, group}));
}

function grantedActions(requested: readonly string[], allowed: readonly string[]): string[] {
  return allowed.includes('*') ? [...requested] : requested.filter((action) => allowed.includes(action));
}

function accessEntry(scope: ResourceScope, actions: string[]): ResourceScope {
  const {type, name} = scope;
  return scope.class === undefined ? {type, name, actions} : {type, class: scope.class, name, actions};
}

function globMatches(glob: string, value: string): boolean {
  return wholeMatch(globSource(glob), value);
}

/**
 * Placeholder values are inserted as literals, never as glob text: a group called `*` must not
 * become a wildcard. A placeholder with no value (`${account}` for an anonymous requester) fits
 * no name.
 */
function placeholderGlobMatches(glob: string, value: string, values: PlaceholderValues): boolean {
  const parts = translatedNameGlob(glob);
  let source = parts[0]!;
  for (let index = 1; index < parts.length; index += 2) {
    const substitute = values[parts[index] as keyof PlaceholderValues];
    if (substitute === undefined) return false;
    source += escapeRegExp(substitute) + parts[index + 1]!;
  }
  return wholeMatch(source, value);
}

/**
 * Name globs split at their placeholders, the parts between them already regex source: a name
 * glob comes from a rule, so there are only as many as the rules have, each translated once.
 */
const translatedNameGlobs = new Map<string, readonly string[]>();

function translatedNameGlob(glob: string): readonly string[] {
  // Splitting on a pattern with one capturing group puts the placeholder names at odd indices.
  return remembered(translatedNameGlobs, glob, () =>
    glob.split(PLACEHOLDER).map((part, index) => (index % 2 === 0 ? globSource(part) : part)),
  );
}

function globSource(glob: string): string {
  return glob.split('*').map(escapeRegExp).join('.*');
}

/** Compiled patterns, reused across requests: compiling one costs more than the rest of a decision. */
const compiled = new Map<string, RegExp>();
const MAX_COMPILED = 10_000;

function wholeMatch(source: string, value: string): boolean {
  const pattern = remembered(compiled, source, () => {
    // Sources embed account and group names, so the set is open-ended: start over rather than grow.
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    return new RegExp(`^(?:${source})$`, 's');
  });
  return pattern.test(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}
