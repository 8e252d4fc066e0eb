import {randomUUID} from 'node:crypto';
import type {LazyToken, Person, WebDeps} from '@hub/web';
import {DEFAULT_SCOPES} from '@hub/protocol/default-scopes';
import {namespaceAccess} from '../policy/acl.js';
import type {TokenServiceDeps} from '../service-deps.js';
import type {WebSessions} from '../sessions/web-sessions.js';
import type {PullableRepositories} from './routes/repositories.js';

/**
 * What hub-auth gives the web hub (packages/hub-web): the person behind a provider token, found
 * as for a token request; the repositories and registry tokens the policy allows them, pull only.
 */

/** A page's registry reads, or a deletion, take a few seconds at most. */
const PULL_TOKEN_SECONDS = 60;

export interface WebHubSetUp {
  clientSecret: string;
  sessions: WebSessions;
}

export function webHubDeps(deps: TokenServiceDeps, setUp: WebHubSetUp, pullable: PullableRepositories): WebDeps {
  const {config} = deps;
  const web = config.web;
  const audience = config.client.audience ?? config.oidc.audience[0]!;
  return {
    publicUrl: new URL(web.publicUrl!),
    oidc: {
      issuer: config.oidc.issuer,
      clientId: web.clientId!,
      clientSecret: setUp.clientSecret,
      // The token must pass as hub's own does: the same audience, asked for as hub's login asks (src/auth/oidc.ts).
      // No offline_access: the web hub keeps no provider token.
      authorizationParameters: {
        scope: (config.client.scopes || DEFAULT_SCOPES)
          .split(' ')
          .filter((scope) => scope !== 'offline_access')
          .join(' '),
        audience,
        ...(URL.canParse(audience) ? {resource: audience} : {}),
      },
    },
    async personOf(accessToken, clientAddress) {
      const {requester, holder} = await deps.callerOf(accessToken, clientAddress);
      return {issuer: holder.issuer, subject: holder.subject, account: requester.account, groups: requester.groups};
    },
    pullableRepositories: (person) => pullable(person),
    pullToken: (person, repository) => repositoryToken(deps, person, repository, ['pull']),
    deleteToken: (person, repository) => repositoryToken(deps, person, repository, ['pull', 'delete']),
    namespaceAccess: (namespace) => namespaceAccess(deps.rules, namespace),
    mayPush: (person, repository) =>
      deps.decide(person, [{type: 'repository', name: repository, actions: ['push']}]).some((scope) => scope.actions.includes('push')),
    registry: {url: new URL(web.registryUrl ?? config.registry.url ?? `https://${config.registry.host}`), host: config.registry.host},
    sessions: setUp.sessions,
    activity: deps.activity,
    sessionLifetimeSeconds: web.sessionLifetimeSeconds,
    nowSeconds: deps.nowSeconds,
    logger: deps.logger,
  };
}

/**
 * A registry token of `actions` on one repository for the person, for a page's reads (or a
 * deletion it confirmed), only when the policy grants every one of them: nothing more is signed.
 * Decided now, signed at its first use: most of a warm page's reads are answered from memory.
 */
function repositoryToken(deps: TokenServiceDeps, person: Person, repository: string, actions: string[]): LazyToken | undefined {
  const granted = deps.decide(person, [{type: 'repository', name: repository, actions}])[0]?.actions ?? [];
  if (!actions.every((action) => granted.includes(action))) return undefined;
  let signed: string | undefined;
  return () => {
    if (signed !== undefined) return signed;
    const now = deps.nowSeconds();
    signed = deps.signer.sign({
      iss: deps.config.issuer,
      sub: person.account,
      aud: deps.config.service,
      exp: now + PULL_TOKEN_SECONDS,
      nbf: now,
      iat: now,
      jti: randomUUID(),
      access: [{type: 'repository', name: repository, actions}],
    });
    return signed;
  };
}
