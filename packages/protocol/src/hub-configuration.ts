import {z} from 'zod';

/**
 * Zero-config login: a hub registry's token service publishes what a client needs to sign in at
 * this path, next to its realm. hub-auth writes the document, hub reads it; this is its one schema.
 */
export const HUB_CONFIGURATION_PATH = '/.well-known/hub-configuration';

/**
 * Bounds far above any real value: the document comes from whatever answers at the registry's
 * address, and hub shows its values to the person (the issuer they are asked to trust, the client
 * id to check), so a hostile one must not fill their terminal.
 */
const URL_LENGTH = 2048;
const NAME_LENGTH = 255;
const SCOPES_LENGTH = 1024;

export const hubConfigurationSchema = z.object({
  issuer: z.url().max(URL_LENGTH),
  client_id: z.string().min(1).max(NAME_LENGTH),
  /** The client for `hub login --device`, where the provider wants one of its own for the device flow. */
  device_client_id: z.string().min(1).max(NAME_LENGTH).optional(),
  scopes: z.string().min(1).max(SCOPES_LENGTH).optional(),
  /**
   * Informational only: hub derives the audience from the registry's own name
   * (registry-audience.ts), so a copied document cannot make it ask for another registry's.
   */
  audience: z.string().max(URL_LENGTH).optional(),
  registry: z.string().max(URL_LENGTH).optional(),
  service: z.string().max(NAME_LENGTH).optional(),
  /** The web hub's home page (web-paths.ts), where the token service serves one: `hub open` opens its pages. */
  web_hub: z.url().max(URL_LENGTH).optional(),
});

export type HubConfiguration = z.infer<typeof hubConfigurationSchema>;
