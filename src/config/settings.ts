import {readJsonFile, updateJsonFile} from '@hub/common/atomic-json-file';
import {closedObject, object, oneOf, optional, recordOf, string, type ShapeOf} from '@hub/common/json-shape';
import type {OptionalEndpoint} from '@hub/protocol/authorization-server-metadata';

export const storageKinds = ['keychain', 'insecure-file'] as const;
export type StorageKind = (typeof storageKinds)[number];

/** The optional endpoints hub calls, which settings may name when the provider's metadata does not. */
export const hubEndpoints = [
  'revocation_endpoint',
  'device_authorization_endpoint',
  'userinfo_endpoint',
] as const satisfies readonly OptionalEndpoint[];
export type HubEndpoint = (typeof hubEndpoints)[number];

/** hub's settings file: what `hub login` saved for each registry. */
export const registrySettings = object({
  issuer: string({url: true}),
  clientId: string({nonEmpty: true}),
  scopes: string({nonEmpty: true}),
  audience: optional(string({nonEmpty: true})),
  /** Where the active account's tokens are. */
  storage: oneOf(storageKinds),
  /** The active account: the one docker, `hub push`, `hub pull` and `hub token` go as. */
  account: optional(string()),
  /**
   * Every account logged in to the registry, in the order of their logins, with where each one's
   * tokens are. Absent in the settings of hub before several accounts: then the one session is
   * `account`'s, under the registry's own name in the store (src/session/accounts.ts moves it).
   */
  accounts: optional(recordOf(object({storage: oneOf(storageKinds)}))),
  /** The docker config folder whose credHelpers entry login wrote; absent with --docker-config=none. */
  dockerConfig: optional(string()),
  /** The containers auth file (podman, buildah) whose credHelpers entry login wrote, if any. */
  containersAuth: optional(string()),
  /** Endpoints to use whatever the provider's metadata says, by their metadata names (revocation_endpoint, ...). */
  endpoints: optional(
    closedObject(
      Object.fromEntries(hubEndpoints.map((name) => [name, optional(string({url: true}))])) as Record<
        HubEndpoint,
        ReturnType<typeof optional<string>>
      >,
    ),
  ),
});
export const settingsFile = object({registries: recordOf(registrySettings)});

export type RegistrySettings = ShapeOf<typeof registrySettings>;
export type Settings = ShapeOf<typeof settingsFile>;
export type HubEndpoints = NonNullable<RegistrySettings['endpoints']>;

const emptySettings = (): Settings => ({registries: {}});

export async function readSettings(path: string): Promise<Settings> {
  return (await readJsonFile(path, settingsFile)) ?? emptySettings();
}

export async function saveRegistrySettings(path: string, registry: string, settings: RegistrySettings): Promise<void> {
  await updateJsonFile(path, settingsFile, emptySettings, (current) => ({
    registries: {...current.registries, [registry]: settings},
  }));
}

/**
 * Changes one registry's settings under the file's lock, from what is there now (another process
 * may have logged in meanwhile); `change` returning undefined removes them.
 */
export async function updateRegistrySettings(
  path: string,
  registry: string,
  change: (current: RegistrySettings | undefined) => RegistrySettings | undefined,
): Promise<RegistrySettings | undefined> {
  let next: RegistrySettings | undefined;
  await updateJsonFile(path, settingsFile, emptySettings, (current) => {
    const {[registry]: previous, ...rest} = current.registries;
    next = change(previous);
    return {registries: next ? {...current.registries, [registry]: next} : rest};
  });
  return next;
}

export async function removeRegistrySettings(path: string, registry: string): Promise<void> {
  await updateJsonFile(path, settingsFile, emptySettings, (current) => {
    const {[registry]: _removed, ...rest} = current.registries;
    return {registries: rest};
  });
}
