import type {z} from 'zod';
import {isOptional, isRecord, isString, readJsonFile, updateJsonFile, type JsonShape} from '@hub/common/locked-json';
import type {OptionalEndpoint} from '@hub/protocol/authorization-server-metadata';
import type {registrySettings, settingsFile} from './settings-schema.js';

export const storageKinds = ['keychain', 'insecure-file'] as const;
export type StorageKind = (typeof storageKinds)[number];

/** The optional endpoints hub calls, which settings may name when the provider's metadata does not. */
export const hubEndpoints = ['revocation_endpoint', 'device_authorization_endpoint', 'userinfo_endpoint'] as const satisfies readonly OptionalEndpoint[];
export type HubEndpoint = (typeof hubEndpoints)[number];
export type HubEndpoints = Partial<Record<HubEndpoint, string>>;

export type RegistrySettings = z.infer<typeof registrySettings>;
export type Settings = z.infer<typeof settingsFile>;

const settingsShape: JsonShape<Settings> = {
  looksValid: (data): data is Settings =>
    isRecord(data) && isRecord(data.registries) && Object.values(data.registries).every(looksLikeRegistrySettings),
  schema: async () => (await import('./settings-schema.js')).settingsFile,
};

function looksLikeRegistrySettings(value: unknown): boolean {
  return (
    isRecord(value) &&
    isString(value.issuer) &&
    isString(value.clientId) &&
    isString(value.scopes) &&
    storageKinds.includes(value.storage as StorageKind) &&
    isOptional(value.audience, isString) &&
    isOptional(value.account, isString) &&
    isOptional(value.dockerConfig, isString) &&
    isOptional(value.endpoints, looksLikeEndpoints)
  );
}

function looksLikeEndpoints(value: unknown): value is HubEndpoints {
  return isRecord(value) && Object.entries(value).every(([name, url]) => hubEndpoints.includes(name as HubEndpoint) && isString(url) && URL.canParse(url));
}

const emptySettings = (): Settings => ({registries: {}});

export async function readSettings(path: string): Promise<Settings> {
  return (await readJsonFile(path, settingsShape)) ?? emptySettings();
}

export async function saveRegistrySettings(path: string, registry: string, settings: RegistrySettings): Promise<void> {
  await updateJsonFile(path, settingsShape, emptySettings, (current) => ({
    registries: {...current.registries, [registry]: settings},
  }));
}

export async function removeRegistrySettings(path: string, registry: string): Promise<void> {
  await updateJsonFile(path, settingsShape, emptySettings, (current) => {
    const {[registry]: _removed, ...rest} = current.registries;
    return {registries: rest};
  });
}
