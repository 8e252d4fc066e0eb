import {readJsonFile, updateJsonFile} from '../files/atomic-json-file.js';
import {object, oneOf, optional, recordOf, string, type ShapeOf} from '../files/json-shape.js';

export const DEFAULT_SCOPES = 'openid profile offline_access';

export const storageKinds = ['keychain', 'insecure-file'] as const;
export type StorageKind = (typeof storageKinds)[number];

/** hub's settings file: what `hub login` saved for each registry. */
export const registrySettings = object({
  issuer: string({url: true}),
  clientId: string({nonEmpty: true}),
  scopes: string({nonEmpty: true}),
  audience: optional(string({nonEmpty: true})),
  storage: oneOf(storageKinds),
  account: optional(string()),
  /** The docker config folder whose credHelpers entry login wrote; absent with --docker-config=none. */
  dockerConfig: optional(string()),
});
export const settingsFile = object({registries: recordOf(registrySettings)});

export type RegistrySettings = ShapeOf<typeof registrySettings>;
export type Settings = ShapeOf<typeof settingsFile>;

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
