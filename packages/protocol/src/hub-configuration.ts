import {z} from 'zod';

/**
 * Zero-config login: a hub registry's token service publishes what a client needs to sign in at
 * this path, next to its realm. hub-auth writes the document, hub reads it; this is its one schema.
 */
export const HUB_CONFIGURATION_PATH = '/.well-known/hub-configuration';

export const hubConfigurationSchema = z.object({
  issuer: z.url(),
  client_id: z.string().min(1),
  /** The client for `hub login --device`, where the provider wants one of its own for the device flow. */
  device_client_id: z.string().min(1).optional(),
  scopes: z.string().min(1).optional(),
  /**
   * Informational only: hub derives the audience from the registry's own name
   * (registry-audience.ts), so a copied document cannot make it ask for another registry's.
   */
  audience: z.string().optional(),
  registry: z.string().optional(),
  service: z.string().optional(),
});

export type HubConfiguration = z.infer<typeof hubConfigurationSchema>;
