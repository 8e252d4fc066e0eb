/**
 * The manifests distribution 2.8 serves and hub reads: indexes of several platforms, then image
 * manifests, OCI's and docker's. Anything else the registry stores is a blob.
 */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
] as const;

export const isManifestMediaType = (mediaType: string): boolean => (MANIFEST_MEDIA_TYPES as readonly string[]).includes(mediaType);
