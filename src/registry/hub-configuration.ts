import {HubError} from '@hub/common/errors';
import {HUB_CONFIGURATION_PATH, hubConfigurationSchema, type HubConfiguration} from '@hub/protocol/hub-configuration';
import {send} from './http.js';
import type {Registry} from './registry.js';

/**
 * Zero-config login: a hub registry's token service publishes what a client needs to sign in
 * (issuer, client ids, scopes) at /.well-known/hub-configuration, next to its realm. Its `audience`
 * is not read: hub derives the audience from the registry's name (@hub/protocol/registry-audience).
 */
export async function discoverHubConfiguration(registry: Registry): Promise<HubConfiguration> {
  const {realm} = await registry.realm();
  const url = new URL(HUB_CONFIGURATION_PATH, realm);
  const response = await send(url.href, {accept: 'application/json'});
  const parsed = response.ok ? hubConfigurationSchema.safeParse(await response.json().catch(() => undefined)) : undefined;
  if (!parsed?.success) {
    throw new HubError(
      `${registry.host} is not a hub registry: its token service (${url.origin}) does not say how to sign in (${url.pathname} ${response.ok ? 'is not valid' : `answered HTTP ${response.status}`}).`,
      {
        code: 'not_hub_registry',
        suggestions: ['Pass --issuer and --client-id (from your identity provider administrator) to log in anyway.'],
      },
    );
  }
  return parsed.data;
}
