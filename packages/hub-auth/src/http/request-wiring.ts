import type {TokenServiceDeps} from '../service-deps.js';
import {rememberingDecider} from '../policy/acl.js';
import {callerResolver} from '../tokens/caller.js';
import {rememberingScopeParser} from '../tokens/scope.js';

/**
 * What every request of one service shares, built once with the service: the policy's decider,
 * the scope parser and the caller resolver, each remembering its recent answers (docker asks the
 * same things over and over). A reload builds a new service, and with it new ones.
 */
export function withRequestWiring(base: Omit<TokenServiceDeps, 'decide' | 'parseScopes' | 'callerOf'>): TokenServiceDeps {
  const withPolicy = {...base, decide: rememberingDecider(base.rules), parseScopes: rememberingScopeParser()};
  return {...withPolicy, callerOf: callerResolver(withPolicy)};
}
