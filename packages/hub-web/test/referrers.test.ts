import {describe, expect, it} from 'vitest';
import {fallbackReferrers, isReferrerTag, referrerTagsOf} from '../src/referrers.js';

const hex = 'a'.repeat(64);
const digest = `sha256:${hex}`;

describe('what refers to an image, by the tag schemes', () => {
  it("finds cosign's signature, attestation and SBOM tags, and the OCI fallback index's tag, of that digest only", () => {
    const tags = ['v1', `sha256-${hex}.sig`, `sha256-${hex}.att`, `sha256-${hex}.sbom`, `sha256-${hex}`, `sha256-${'b'.repeat(64)}.sig`];
    expect(referrerTagsOf(digest, tags)).toEqual({
      cosign: [
        {kind: 'signature', tag: `sha256-${hex}.sig`},
        {kind: 'attestation', tag: `sha256-${hex}.att`},
        {kind: 'SBOM', tag: `sha256-${hex}.sbom`},
      ],
      fallbackIndex: `sha256-${hex}`,
    });
    expect(referrerTagsOf(digest, ['v1'])).toEqual({cosign: [], fallbackIndex: undefined});
  });

  it('takes those tags for no image of their own, and any other tag for one', () => {
    expect([`sha256-${hex}.sig`, `sha256-${hex}`].every(isReferrerTag)).toBe(true);
    expect(['v1', 'sha256-short.sig', `sha256-${hex}.other`, `latest-sha256-${hex}`].some(isReferrerTag)).toBe(false);
  });

  it("reads an OCI fallback index's referrers by their artifact type", () => {
    const entry = (artifactType: string | undefined, n: string) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: `sha256:${n.repeat(64)}`,
      size: 1,
      ...(artifactType === undefined ? {} : {artifactType}),
    });
    const index = {
      manifests: [
        entry('application/spdx+json', '1'),
        entry('application/vnd.dev.sigstore.bundle.v0.3+json', '2'),
        entry('application/vnd.in-toto+json', '3'),
        entry('application/vnd.example.thing', '4'),
        entry(undefined, '5'),
      ],
    };
    expect(fallbackReferrers(`sha256-${hex}`, index).map((referrer) => referrer.kind)).toEqual([
      'SBOM',
      'signature',
      'attestation',
      'artifact',
      'artifact',
    ]);
  });
});
