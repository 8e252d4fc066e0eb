import {z} from 'zod';
import {readJsonFile, updateJsonFile} from '../files/locked-json.js';

export const DEFAULT_SCOPES = 'openid profile offline_access';

export const storageKinds = ['keychain', 'insecure-file'] as const;
export type StorageKind = (typeof storageKinds)[number];

const registrySettings = z.object({
  issuer: z.url(),
  clientId: z.string().min(1),
  scopes: z.string().min(1),
  audience: z.string().min(1).optional(),
  storage: z.enum(storageKinds),
  account: z.string().optional(),
  /** The docker config folder whose credHelpers entry login wrote; absent with --docker-config=none. */
  dockerConfig: z.string().optional(),
});
export type RegistrySettings = z.infer<typeof registrySettings>;

const settingsFile = z.object({
  registries: z.record(z.string(), registrySettings),
});
export type Settings = z.infer<typeof settingsFile>;

const emptySettings = (): Settings => ({registries: {}});

export async function readSettings(path: string): Promise<Settings> {
  return (await readJsonFile(path, settingsFile)) ?? emptySettings();
}

export async function saveRegistrySettings(path: string, registry: string, settings: RegistrySettings): Promise<void> {
  await updateJsonFile(path, settingsFile, emptySettings, (current) => ({
    registries: {...current.registries, [registry]: settings},
  }));
}

export async function removeRegistrySettings(path: string, registry: string): Promise<void> {
  await updateJsonFile(path, settingsFile, emptySettings, (current) => {
    const {[registry]: _removed, ...rest} = current.registries;
    return {registries: rest};
  });
}
