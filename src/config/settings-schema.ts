import {z} from 'zod';
import {hubEndpoints, storageKinds} from './settings.js';

/** The full schema of hub's settings file; see settingsShape for why it is loaded only on demand. */
export const registrySettings = z.object({
  issuer: z.url(),
  clientId: z.string().min(1),
  scopes: z.string().min(1),
  audience: z.string().min(1).optional(),
  storage: z.enum(storageKinds),
  account: z.string().optional(),
  /** The docker config folder whose credHelpers entry login wrote; absent with --docker-config=none. */
  dockerConfig: z.string().optional(),
  /** Endpoints to use whatever the provider's metadata says, by their metadata names (revocation_endpoint, ...). */
  endpoints: z.strictObject(Object.fromEntries(hubEndpoints.map((name) => [name, z.url().optional()])) as Record<(typeof hubEndpoints)[number], z.ZodOptional<z.ZodURL>>).optional(),
});

export const settingsFile = z.object({
  registries: z.record(z.string(), registrySettings),
});
