import type {z} from 'zod';
import {isOptional, isRecord, isString, readJsonFile, updateJsonFile, type JsonShape} from '@hub/common/locked-json';
import type {registrySettings, settingsFile} from './settings-schema.js';

export const storageKinds = ['keychain', 'insecure-file'] as const;
export type StorageKind = (typeof storageKinds)[number];

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
    isOptional(value.dockerConfig, isString)
  );
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
