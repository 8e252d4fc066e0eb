import {z} from 'zod';
import {HubError} from '../errors.js';
import {discoverRealm, send} from './client.js';

/**
 * Zero-config login: a hub registry's token service publishes what a client needs to sign in
 * (issuer, client ids, scopes) at /.well-known/hub-configuration, next to its realm. Its `audience`
 * is not read: hub derives the audience from the registry's name (src/protocol/registry-audience.ts).
 */
const hubConfiguration = z.object({
  issuer: z.url(),
  client_id: z.string().min(1),
  scopes: z.string().min(1).optional(),
  /** The client for the device flow, where the provider wants one of its own. */
  device_client_id: z.string().min(1).optional(),
});
export type HubConfiguration = z.infer<typeof hubConfiguration>;

export async function discoverHubConfiguration(registry: string): Promise<HubConfiguration> {
  const {realm} = await discoverRealm(registry);
  const url = new URL('/.well-known/hub-configuration', realm);
  const response = await send(url.href, {accept: 'application/json'});
  const parsed = response.ok ? hubConfiguration.safeParse(await response.json().catch(() => undefined)) : undefined;
  if (!parsed?.success) {
    throw new HubError(`${registry} is not a hub registry: its token service (${url.origin}) does not say how to sign in (${url.pathname} ${response.ok ? 'is not valid' : `answered HTTP ${response.status}`}).`, {
      code: 'not_hub_registry',
      suggestions: ['Pass --issuer and --client-id (from your identity provider administrator) to log in anyway.'],
    });
  }
  return parsed.data;
}
