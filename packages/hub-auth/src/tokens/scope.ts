import {LRUCache} from 'lru-cache';
import {isValidRepositoryName, MAX_REPOSITORY_NAME_LENGTH} from '@hub/protocol/repository-name';
import type {ResourceScope} from '@hub/protocol/resource-scope';
import {remembered} from '../remember.js';

/**
 * The resource scopes a registry client asks the token service for are written
 * `type[(class)]:name:action[,action]*`, e.g. `repository:alice/app:pull,push`.
 */

/** Longer `scope` values are refused whole: no client needs them, and they only cost work. */
const MAX_SCOPE_VALUE_LENGTH = 4096;
const MAX_SCOPES_PER_REQUEST = 64;

const TYPE_AND_CLASS = /^([a-z0-9]+)(?:\(([a-z0-9]+)\))?$/;
const ACTION = /^(?:[a-z]+|\*)$/;
/** Only printable, non-space ASCII, so a name cannot smuggle anything into logs or claims. */
const OTHER_RESOURCE_NAME = /^[\x21-\x7e]+$/;

/**
 * Parses the `scope` query parameters of a token request. Each value may hold several scopes
 * separated by spaces (the OAuth2 form). Malformed scopes are dropped rather than reported: the
 * token service grants what it can and never fails a request because of one bad scope. Scopes
 * naming the same resource are merged into one with the union of their actions.
 */
export function parseScopes(values: readonly string[]): ResourceScope[] {
  const byResource = new Map<string, ResourceScope>();
  for (const value of values) {
    if (value.length > MAX_SCOPE_VALUE_LENGTH) continue;
    for (const token of value.split(' ')) {
      const scope = parseScope(token);
      if (scope === undefined) continue;
      const key = resourceKey(scope);
      const known = byResource.get(key);
      if (known !== undefined) {
        known.actions = union(known.actions, scope.actions);
      } else if (byResource.size < MAX_SCOPES_PER_REQUEST) {
        byResource.set(key, scope);
      }
    }
  }
  return [...byResource.values()];
}

/**
 * parseScopes, remembering the answers for recent scope texts: docker asks for the same scopes
 * over and over (every layer of a push). The answers are shared between requests: read them,
 * never change them. Bounded in entries and in the characters of the texts kept.
 */
export function rememberingScopeParser(maxTexts = 1000): (values: readonly string[]) => readonly ResourceScope[] {
  const parsed = new LRUCache<string, readonly ResourceScope[]>({
    max: maxTexts,
    maxSize: maxTexts * 256,
    sizeCalculation: (_scopes, text) => Math.max(text.length, 1),
  });
  return (values) => remembered(parsed, JSON.stringify(values), () => parseScopes(values));
}

export function formatScope(scope: ResourceScope): string {
  const type = scope.class === undefined ? scope.type : `${scope.type}(${scope.class})`;
  return `${type}:${scope.name}:${scope.actions.join(',')}`;
}

function parseScope(token: string): ResourceScope | undefined {
  // The name is everything between the first and the last ':', so a name may itself hold ':'.
  const firstColon = token.indexOf(':');
  const lastColon = token.lastIndexOf(':');
  if (firstColon <= 0 || lastColon === firstColon) return undefined;

  const typeAndClass = TYPE_AND_CLASS.exec(token.slice(0, firstColon));
  const name = token.slice(firstColon + 1, lastColon);
  const actions = parseActions(token.slice(lastColon + 1));
  if (typeAndClass === null || actions === undefined) return undefined;

  const type = typeAndClass[1]!;
  const resourceClass = typeAndClass[2];
  if (!isValidResourceName(type, name)) return undefined;
  return resourceClass === undefined ? {type, name, actions} : {type, class: resourceClass, name, actions};
}

/** Undefined when any action is malformed or none is asked for; empty list items are skipped. */
function parseActions(text: string): string[] | undefined {
  const actions = text.split(',').filter((action) => action !== '');
  if (actions.length === 0 || !actions.every((action) => ACTION.test(action))) return undefined;
  return union([], actions);
}

function isValidResourceName(type: string, name: string): boolean {
  if (type === 'repository') return isValidRepositoryName(name);
  return name.length <= MAX_REPOSITORY_NAME_LENGTH && OTHER_RESOURCE_NAME.test(name);
}

function resourceKey(scope: ResourceScope): string {
  return JSON.stringify([scope.type, scope.class ?? null, scope.name]);
}

function union(first: readonly string[], second: readonly string[]): string[] {
  return [...new Set([...first, ...second])];
}
