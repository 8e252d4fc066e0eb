import {z} from 'zod';
import {isDigest} from '@hub/protocol/digest';
import {isManifestMediaType} from '@hub/protocol/manifest-media-types';
import {isValidRepositoryName, TAG_PATTERN} from '@hub/protocol/repository-name';
import {WEB_HUB_USER_AGENT} from '@hub/protocol/web-hub-reads';

/**
 * distribution's notification envelope (docs: "Work with notifications"), as far as hub-auth keeps
 * it: the events of manifests, not of blobs. Remote JSON, if from the registry: every field that is
 * stored is bounded and checked, the rest let through unread.
 */
export const NOTIFICATION_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';

const eventSchema = z.looseObject({
  id: z.string().min(1).max(256),
  timestamp: z.iso.datetime({offset: true, local: false}),
  action: z.string().max(32),
  target: z.looseObject({
    mediaType: z.string().max(256).optional(),
    size: z.number().int().nonnegative().optional(),
    digest: z.string().max(300).optional(),
    repository: z.string().max(255),
    tag: z.string().max(128).optional(),
  }),
  actor: z.looseObject({name: z.string().max(255).optional()}).optional(),
  request: z.looseObject({useragent: z.string().max(1024).optional()}).optional(),
});

export const envelopeSchema = z.looseObject({events: z.array(eventSchema).max(10_000)});

/** One event hub-auth keeps: a manifest pushed, pulled or deleted. */
export interface ManifestEvent {
  id: string;
  action: 'push' | 'pull' | 'delete';
  at: Date;
  repository: string;
  tag: string | undefined;
  digest: string;
  mediaType: string;
  size: number;
  actor: string | undefined;
}

const ACTIONS = new Set(['push', 'pull', 'delete']);

/**
 * The manifest events of an envelope; those of blobs, of mounts, the web hub's own reads, and any
 * the registry should not have sent (a name or digest that is none) are left out, so that what is
 * stored is what the pages may show.
 */
export function manifestEvents(envelope: z.infer<typeof envelopeSchema>): ManifestEvent[] {
  return envelope.events.flatMap((event) => {
    const {target} = event;
    const mediaType = target.mediaType ?? '';
    // A delete names the manifest by digest, with no media type.
    const manifest = event.action === 'delete' || isManifestMediaType(mediaType);
    if (!ACTIONS.has(event.action) || !manifest || !isValidRepositoryName(target.repository)) return [];
    if (target.digest === undefined || !isDigest(target.digest)) return [];
    if (target.tag !== undefined && !TAG_PATTERN.test(target.tag)) return [];
    // The web hub reading a manifest to show it is nobody pulling it.
    if (event.action === 'pull' && event.request?.useragent?.startsWith(WEB_HUB_USER_AGENT)) return [];
    return [
      {
        id: event.id,
        action: event.action as ManifestEvent['action'],
        at: new Date(event.timestamp),
        repository: target.repository,
        tag: target.tag,
        digest: target.digest,
        mediaType,
        size: target.size ?? 0,
        actor: event.actor?.name || undefined,
      },
    ];
  });
}
