import {createHash} from 'node:crypto';
import {LRUCache} from 'lru-cache';
import {fetch} from 'undici';
import type {z} from 'zod';
import {algorithmOf, isDigest} from '@hub/protocol/digest';
import {MANIFEST_MEDIA_TYPES} from '@hub/protocol/manifest-media-types';
import {WEB_HUB_USER_AGENT} from '@hub/protocol/web-hub-reads';
import {imageConfigSchema, manifestSchema, tagListSchema, type ImageConfig, type Manifest} from './image-manifest.js';
import type {LazyToken} from './web-deps.js';

/**
 * The web hub's reads of the registry, server-side, each with a registry token hub-auth signed for
 * the person (pull of that repository only), signed only when a read does go to the registry. Manifests and config blobs are content-addressed, so
 * what was read by digest is kept, in bounded memory; the key holds the repository too, since a
 * digest read in one repository says nothing of whether another holds it.
 */

const READ_TIMEOUT_MS = 10_000;
/** Manifests and configs are a few kB each: this keeps thousands. */
const CACHE_BYTES = 16 * 1024 * 1024;
/** Tags shown of one repository: one page of the registry's list. */
export const MAX_TAGS = 1000;
/**
 * A tag list, and what a tag names, are kept this long: the list page reads a tag list per
 * repository shown, a repository's page a manifest per tag, and a tag moves or appears seldom next
 * to how often a page is loaded. Read only after the policy let the person pull.
 */
const TAG_LIST_MS = 5000;
const TAG_LISTS_KEPT = 10_000;

/** The registry did not answer, or not as a registry does: the page says so (503). */
export class RegistryUnavailableError extends Error {
  override name = 'RegistryUnavailableError';
}

/** The registry has no such repository, tag or digest: the same 404 as a repository one may not pull. */
export class NotInRegistryError extends Error {
  override name = 'NotInRegistryError';
}

export interface ManifestRead {
  digest: string;
  manifest: Manifest;
}

export interface RegistryReads {
  tags(repository: string, token: LazyToken): Promise<string[]>;
  /** Deletes the manifest `digest` names, with every tag of it (distribution deletes by digest); false when the registry has deletes off. */
  deleteManifest(repository: string, digest: string, token: LazyToken): Promise<boolean>;
  manifest(repository: string, reference: string, token: LazyToken): Promise<ManifestRead>;
  config(repository: string, digest: string, token: LazyToken): Promise<ImageConfig>;
}

const digestOf = (body: Uint8Array, algorithm = 'sha256') => `${algorithm}:${createHash(algorithm).update(body).digest('hex')}`;

export function registryReads(registry: URL): RegistryReads {
  const cache = new LRUCache<string, {value: unknown; bytes: number}>({maxSize: CACHE_BYTES, sizeCalculation: (entry) => entry.bytes});
  const tagLists = new LRUCache<string, string[]>({max: TAG_LISTS_KEPT, ttl: TAG_LIST_MS});
  // What a tag names is kept as briefly as a tag list: a page shows a tag's image, then its list.
  const taggedManifests = new LRUCache<string, ManifestRead>({max: TAG_LISTS_KEPT, ttl: TAG_LIST_MS});

  async function read(path: string, token: LazyToken, accept: string): Promise<Uint8Array> {
    const url = new URL(path, registry);
    let response;
    try {
      response = await fetch(url, {
        headers: {authorization: `Bearer ${token()}`, accept, 'user-agent': WEB_HUB_USER_AGENT},
        signal: AbortSignal.timeout(READ_TIMEOUT_MS),
      });
    } catch (error) {
      throw new RegistryUnavailableError(`${url.origin} cannot be reached: ${(error as Error).message}`);
    }
    const body = new Uint8Array(await response.arrayBuffer());
    if (response.status === 404) throw new NotInRegistryError(`${url.pathname}: not in the registry`);
    if (!response.ok) throw new RegistryUnavailableError(`${url.origin} answered HTTP ${response.status} for ${url.pathname}`);
    return body;
  }

  function parsed<T>(schema: z.ZodType<T>, body: Uint8Array, what: string): T {
    try {
      return schema.parse(JSON.parse(Buffer.from(body).toString('utf8')));
    } catch {
      throw new RegistryUnavailableError(`the registry's ${what} is not one the web hub can read`);
    }
  }

  /** A digest's content, read once and kept; a body that does not hash to its digest is refused. */
  async function byDigest<T>(key: string, digest: string, load: () => Promise<Uint8Array>, parse: (body: Uint8Array) => T): Promise<T> {
    const kept = cache.get(key);
    if (kept) return kept.value as T;
    const body = await load();
    if (digestOf(body, algorithmOf(digest)) !== digest)
      throw new RegistryUnavailableError(`the registry's answer for ${digest} does not match that digest`);
    const value = parse(body);
    cache.set(key, {value, bytes: body.byteLength + key.length});
    return value;
  }

  const manifestPath = (repository: string, reference: string) => `/v2/${repository}/manifests/${reference}`;
  const accept = MANIFEST_MEDIA_TYPES.join(', ');

  return {
    async deleteManifest(repository, digest, token) {
      let response;
      try {
        response = await fetch(new URL(manifestPath(repository, digest), registry), {
          method: 'DELETE',
          headers: {authorization: `Bearer ${token()}`, 'user-agent': WEB_HUB_USER_AGENT},
          signal: AbortSignal.timeout(READ_TIMEOUT_MS),
        });
      } catch (error) {
        throw new RegistryUnavailableError(`the registry cannot be reached: ${(error as Error).message}`);
      }
      await response.arrayBuffer();
      // What the repository names and its tags are no longer what was kept.
      tagLists.delete(repository);
      for (const key of taggedManifests.keys()) if (key.startsWith(`${repository}:`)) taggedManifests.delete(key);
      if (response.status === 202) return true;
      if (response.status === 405) return false;
      if (response.status === 404) throw new NotInRegistryError(`${repository}@${digest} is not in the registry`);
      throw new RegistryUnavailableError(`the registry answered HTTP ${response.status} to the delete`);
    },
    async tags(repository, token) {
      const kept = tagLists.get(repository);
      if (kept) return kept;
      const body = await read(`/v2/${repository}/tags/list?n=${MAX_TAGS}`, token, 'application/json');
      const tags = [...(parsed(tagListSchema, body, `tag list of ${repository}`).tags ?? [])].sort();
      tagLists.set(repository, tags);
      return tags;
    },
    async manifest(repository, reference, token) {
      const parse = (body: Uint8Array) => parsed(manifestSchema, body, `manifest of ${repository}`);
      if (isDigest(reference)) {
        const manifest = await byDigest(
          `manifest:${repository}@${reference}`,
          reference,
          () => read(manifestPath(repository, reference), token, accept),
          parse,
        );
        return {digest: reference, manifest};
      }
      // A tag moves: read again after a few seconds, and kept under the digest it names now.
      const tagged = `${repository}:${reference}`;
      const kept = taggedManifests.get(tagged);
      if (kept) return kept;
      const body = await read(manifestPath(repository, reference), token, accept);
      const digest = digestOf(body);
      const manifest = parse(body);
      cache.set(`manifest:${repository}@${digest}`, {value: manifest, bytes: body.byteLength});
      taggedManifests.set(tagged, {digest, manifest});
      return {digest, manifest};
    },
    config: (repository, digest, token) =>
      byDigest(
        `config:${repository}@${digest}`,
        digest,
        () => read(`/v2/${repository}/blobs/${digest}`, token, 'application/octet-stream'),
        (body) => parsed(imageConfigSchema, body, `image config of ${repository}`),
      ),
  };
}
