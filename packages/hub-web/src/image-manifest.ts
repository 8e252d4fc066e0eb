import {z} from 'zod';

/**
 * What the registry says of an image, as far as the pages show it: an index (several platforms)
 * or an image manifest, and an image's config blob. Remote JSON: checked, and fields the pages do
 * not use are let through untouched.
 */

const annotations = z.record(z.string(), z.string()).optional();
const platform = z.looseObject({os: z.string(), architecture: z.string(), variant: z.string().optional()});
const descriptor = z.looseObject({
  mediaType: z.string().optional(),
  digest: z.string(),
  size: z.number().int().nonnegative(),
  platform: platform.optional(),
  annotations,
});
export type Descriptor = z.infer<typeof descriptor>;

export const manifestSchema = z.looseObject({
  mediaType: z.string().optional(),
  manifests: z.array(descriptor).optional(),
  config: descriptor.optional(),
  layers: z.array(descriptor).optional(),
  annotations,
});
export type Manifest = z.infer<typeof manifestSchema>;

export const tagListSchema = z.looseObject({tags: z.array(z.string()).nullish()});

const strings = z.array(z.string()).nullish();
export const imageConfigSchema = z.looseObject({
  created: z.string().optional(),
  os: z.string().optional(),
  architecture: z.string().optional(),
  variant: z.string().optional(),
  config: z
    .looseObject({
      Entrypoint: strings,
      Cmd: strings,
      Env: strings,
      ExposedPorts: z.record(z.string(), z.unknown()).nullish(),
      Labels: z.record(z.string(), z.string()).nullish(),
    })
    .optional(),
  history: z
    .array(
      z.looseObject({
        created: z.string().optional(),
        created_by: z.string().optional(),
        comment: z.string().optional(),
        empty_layer: z.boolean().optional(),
      }),
    )
    .optional(),
});
export type ImageConfig = z.infer<typeof imageConfigSchema>;

export const isIndex = (manifest: Manifest) => manifest.manifests !== undefined;

/** The compressed size of an image: its layers as stored and pulled (the config is a few hundred bytes more). */
export const compressedSize = (manifest: Manifest) => (manifest.layers ?? []).reduce((sum, layer) => sum + layer.size, 0);

export const platformName = (of: {os?: string | undefined; architecture?: string | undefined; variant?: string | undefined}) =>
  [of.os ?? 'unknown', of.architecture ?? 'unknown', ...(of.variant ? [of.variant] : [])].join('/');

/**
 * The images of an index, without the attestations BuildKit adds next to them (platform
 * unknown/unknown, a `vnd.docker.reference.type`): those are not something to pull.
 */
export const platformImages = (index: Manifest) =>
  (index.manifests ?? []).filter((entry) => entry.annotations?.['vnd.docker.reference.type'] === undefined);

/** The names of the environment variables: their values may be secrets baked in by mistake, and are not shown. */
export const envNames = (config: ImageConfig) => (config.config?.Env ?? []).map((entry) => entry.split('=', 1)[0]!);
