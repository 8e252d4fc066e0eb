import {namespaceNameProblem} from './namespaces.js';

/**
 * The claims of a workload token (a CI job's or a pod's OIDC token) as hub-auth's configuration
 * names them, and the template that turns them into a robot name. A shared leaf, not a part of
 * workloads/, because the configuration checks a template when it is read.
 *
 * A claim is named by its path, nested objects joined by '.': Kubernetes puts the namespace in
 * `kubernetes.io.namespace` (the key `kubernetes.io` holding `namespace`).
 */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  // The longest key that the path starts with, so that a key with a dot in it is found whole.
  const keys = Object.keys(claims)
    .filter((key) => path.startsWith(`${key}.`))
    .sort((a, b) => b.length - a.length);
  for (const key of keys) {
    const inner = claims[key];
    if (typeof inner === 'object' && inner !== null && !Array.isArray(inner))
      return claimAt(inner as Record<string, unknown>, path.slice(key.length + 1));
  }
  return undefined;
}

/**
 * A robot name template: path components of literal text and `{claim}` placeholders. A
 * placeholder stands for exactly one path component, or for exactly N of them when written
 * `{claim:N}` (GitHub's `repository` is `owner/name`: `{repository:2}`), and then fills whole
 * components. So every robot name of one template has the same number of components, and none
 * is a prefix of another: no robot of an issuer owns another's namespace.
 */
export interface RobotTemplate {
  parts: readonly TemplatePart[];
}

type TemplatePart = {literal: string} | {claim: string; components: number};

const PLACEHOLDER = /\{([A-Za-z0-9_.-]+)(?::([1-9]))?\}/g;

/** Robot names stay well inside distribution's 255 characters, with a repository below them. */
export const MAX_ROBOT_NAME_LENGTH = 128;

/** The template, or an Error saying what is wrong with it (for the configuration's message). */
export function parseRobotTemplate(text: string): RobotTemplate {
  const parts: TemplatePart[] = [];
  let at = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    if (match.index > at) parts.push({literal: text.slice(at, match.index)});
    const components = Number(match[2] ?? '1');
    const end = match.index + match[0].length;
    const whole = (match.index === 0 || text[match.index - 1] === '/') && (end === text.length || text[end] === '/');
    if (components > 1 && !whole)
      throw new Error(`${match[0]} stands for several path components: it must fill whole components (between "/")`);
    parts.push({claim: match[1]!, components});
    at = end;
  }
  if (at < text.length) parts.push({literal: text.slice(at)});
  if (/[{}]/.test(parts.map((part) => ('literal' in part ? part.literal : '')).join('')))
    throw new Error('has a "{" or "}" that is not a placeholder ({claim} or {claim:N})');
  if (!parts.some((part) => 'claim' in part))
    throw new Error('names no claim: every token of the issuer would be the same robot; use {claim}');
  // Literal text must be namespace text already: try it with each placeholder filled.
  const sample = parts.map((part) => ('literal' in part ? part.literal : Array(part.components).fill('x').join('/'))).join('');
  const problem = pathProblem(sample);
  if (problem) throw new Error(`is not a repository path once filled in (${problem})`);
  return {parts};
}

/** A claim that cannot be part of a robot name as it is: which, its value, and why. */
export interface ClaimProblem {
  claim: string;
  value: unknown;
  problem: string;
}

/**
 * The robot name the claims make, or why they make none. Each value is taken as it is, never
 * rewritten (lower-cased, stripped): a rewrite would give two workloads one name.
 */
export function expandRobotTemplate(template: RobotTemplate, claims: Record<string, unknown>): {name: string} | ClaimProblem {
  let name = '';
  for (const part of template.parts) {
    if ('literal' in part) {
      name += part.literal;
      continue;
    }
    const value = claimAt(claims, part.claim);
    if (typeof value !== 'string') return {claim: part.claim, value, problem: value === undefined ? 'is missing' : 'is not text'};
    const components = value.split('/');
    if (components.length !== part.components)
      return {
        claim: part.claim,
        value,
        problem: `has ${components.length} path component${components.length === 1 ? '' : 's'}, the robot name takes ${part.components}`,
      };
    const problem = components.map(namespaceNameProblem).find((found) => found !== undefined);
    if (problem) return {claim: part.claim, value, problem};
    name += value;
  }
  const problem = pathProblem(name);
  return problem
    ? {
        claim: template.parts
          .map((part) => ('claim' in part ? part.claim : ''))
          .filter(Boolean)
          .join(', '),
        value: name,
        problem,
      }
    : {name};
}

function pathProblem(path: string): string | undefined {
  if (path.length > MAX_ROBOT_NAME_LENGTH) return `is longer than ${MAX_ROBOT_NAME_LENGTH} characters`;
  for (const component of path.split('/')) {
    const problem = namespaceNameProblem(component);
    if (problem) return `${JSON.stringify(component)} ${problem}`;
  }
  return undefined;
}
