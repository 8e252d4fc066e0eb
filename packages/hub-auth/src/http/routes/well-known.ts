import type {FastifyInstance} from 'fastify';
import {HUB_CONFIGURATION_PATH, type HubConfiguration} from '@hub/protocol/hub-configuration';
import {HOME} from '@hub/protocol/web-paths';
import type {TokenServiceDeps} from '../../service-deps.js';

/** What a client needs to log in with no flags, and the keys that verify our tokens. */
export function registerWellKnownRoutes(app: FastifyInstance, deps: TokenServiceDeps): void {
  const {config} = deps;
  const hubConfiguration: HubConfiguration = {
    issuer: config.oidc.issuer,
    client_id: config.client.clientId,
    device_client_id: config.client.deviceClientId,
    scopes: config.client.scopes,
    audience: config.client.audience ?? config.oidc.audience[0],
    registry: config.registry.host,
    service: config.service,
    web_hub: config.web.enabled ? new URL(HOME, config.web.publicUrl).href : undefined,
  };
  app.get(HUB_CONFIGURATION_PATH, (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(hubConfiguration));
  app.get('/.well-known/jwks.json', (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(deps.jwks));
}
