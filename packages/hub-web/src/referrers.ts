import type {Manifest} from './image-manifest.js';

/**
 * What refers to an image, found the way clients of a registry without the referrers API store
 * it (distribution 2.8 has none): tags named after the image's digest. cosign tags its signature,
 * attestations and SBOM `sha256-<hex>.sig`, `.att` and `.sbom`; OCI 1.1's fallback keeps an index
 * of every referrer under `sha256-<hex>`, each with its `artifactType`.
 */

export type ReferrerKind = 'signature' | 'attestation' | 'SBOM' | 'artifact';

export interface Referrer {
  kind: ReferrerKind;
  /** The tag it was found under; a referrer of the fallback index is reached by `digest`. */
  tag: string;
  digest?: string;
  artifactType?: string;
}

const REFERRER_TAG = /^sha256-[0-9a-f]{64}(?:\.(sig|att|sbom))?$/;
const COSIGN_KINDS: Record<string, ReferrerKind> = {sig: 'signature', att: 'attestation', sbom: 'SBOM'};

/** A tag of this scheme names no image of its own: the pages list it with the image it refers to. */
export const isReferrerTag = (tag: string): boolean => REFERRER_TAG.test(tag);

/** The scheme's tags for `digest` among `tags`: cosign's, and the fallback index's tag when there is one. */
export function referrerTagsOf(digest: string, tags: readonly string[]): {cosign: Referrer[]; fallbackIndex: string | undefined} {
  const base = digest.replace(':', '-');
  const cosign = tags.flatMap((tag): Referrer[] => {
    const kind = tag.startsWith(`${base}.`) ? COSIGN_KINDS[tag.slice(base.length + 1)] : undefined;
    return kind ? [{kind, tag}] : [];
  });
  return {cosign, fallbackIndex: tags.includes(base) ? base : undefined};
}

/** The referrers an OCI 1.1 fallback index lists, each of the kind its artifact type says. */
export function fallbackReferrers(tag: string, index: Manifest): Referrer[] {
  return (index.manifests ?? []).map((entry) => {
    const artifactType = (entry as {artifactType?: unknown}).artifactType;
    const type = typeof artifactType === 'string' ? artifactType : undefined;
    return {kind: kindOf(type), tag, digest: entry.digest, ...(type === undefined ? {} : {artifactType: type})};
  });
}

function kindOf(artifactType: string | undefined): ReferrerKind {
  const type = artifactType?.toLowerCase() ?? '';
  if (/spdx|cyclonedx|syft|sbom/.test(type)) return 'SBOM';
  if (/signature|simplesigning|notary|sigstore/.test(type)) return 'signature';
  if (/in-toto|attestation|provenance|vuln/.test(type)) return 'attestation';
  return 'artifact';
}
