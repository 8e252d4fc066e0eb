import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify';
import {isDigest} from '@hub/protocol/digest';
import {isValidRepositoryName} from '@hub/protocol/repository-name';
import type {Html} from './html.js';
import {isIndex, platformImages, platformName, compressedSize} from './image-manifest.js';
import type {Viewer} from './pages/layout.js';
import {page} from './pages/layout.js';
import {imageContent, indexContent} from './pages/image.js';
import {messagePage} from './pages/messages.js';
import {deletionContent} from './pages/delete.js';
import {formProblem} from './csrf.js';
import {namespaceContent} from './pages/namespace.js';
import {repositoriesContent, repositoryListing} from './pages/repositories.js';
import {orderedTags, repositoryContent, tagOrderOf, type TagSummary} from './pages/repository.js';
import {NAMESPACES, pageOf, REPOSITORIES, repositoryPath, WEB_PREFIX} from '@hub/protocol/web-paths';
import {fallbackReferrers, isReferrerTag, referrerTagsOf, type Referrer} from './referrers.js';
import {NotInRegistryError, registryReads, RegistryUnavailableError, type RegistryReads} from './registry-reads.js';
import type {SignedInCheck} from './sign-in.js';
import type {LazyToken, Person, WebDeps} from './web-deps.js';

/** Tags summed up on a repository's page (the first by name): each is a manifest read, and more are a filter away. */
const TAGS_SHOWN = 100;
/** The newest pushes and deletes a repository's page lists. */
const EVENTS_SHOWN = 20;
/** Registry reads at once for one page. */
const READS_AT_ONCE = 8;

const send = (reply: FastifyReply, status: number, content: Html) =>
  reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(content.text);

/** The pages of what one may pull: the repositories, a repository's tags, an image. */
export function registerBrowsing(web: FastifyInstance, deps: WebDeps, signedIn: SignedInCheck): void {
  const reads = registryReads(deps.registry.url);
  /** A token to delete the image `tag` names, where the policy lets the person delete; none for a signature's tag, which names no image of its own. */
  const deletionToken = (person: Person, repository: string, tag: string | undefined) =>
    isValidRepositoryName(repository) && tag && !isReferrerTag(tag) ? deps.deleteToken(person, repository) : undefined;

  web.get('/', async (request, reply) => {
    const who = await signedIn(request, reply);
    if (!who) return reply;
    const query = request.query as Record<string, unknown>;
    return answer(request, reply, who.viewer, async () => {
      const listing = repositoryListing(await deps.pullableRepositories(who.person), String(query.q ?? ''), Number(query.page ?? 1));
      // The counts are the registry's: when it does not answer, the list is still shown, without them.
      let unanswered = false;
      const countOf = async (name: string) => {
        if (unanswered) return undefined;
        try {
          return await tagCount(reads, name, deps.pullToken(who.person, name));
        } catch (error) {
          if (!(error instanceof RegistryUnavailableError)) throw error;
          if (!unanswered) request.log.warn({event: 'web', reason: error.message}, 'tags not counted for the repository list');
          unanswered = true;
          return undefined;
        }
      };
      const [lastPushes, tagCounts] = await Promise.all([deps.activity.lastPushes(listing.shown), inTurns(listing.shown, countOf)]);
      const summaries = new Map(listing.shown.map((name, index) => [name, {tags: tagCounts[index], lastPush: lastPushes.get(name)}]));
      return page('Repositories', repositoriesContent(listing, summaries), who.viewer);
    });
  });

  web.get(`${NAMESPACES.slice(WEB_PREFIX.length)}/*`, async (request, reply) => {
    const who = await signedIn(request, reply);
    if (!who) return reply;
    const namespace = decodedName((request.params as {'*': string})['*'].replace(/\/$/, ''));
    return answer(request, reply, who.viewer, async () => {
      const inside = isValidRepositoryName(namespace)
        ? (await deps.pullableRepositories(who.person)).filter((name) => name.startsWith(`${namespace}/`)).sort()
        : [];
      // A namespace with nothing one may pull is, to them, one that does not exist.
      if (inside.length === 0) throw new NotInRegistryError(`no repository under ${namespace} that the person may pull`);
      return page(namespace, namespaceContent(namespace, inside, deps.namespaceAccess(namespace)), who.viewer);
    });
  });

  web.post(`${REPOSITORIES.slice(WEB_PREFIX.length)}/*`, async (request, reply) => {
    const who = await signedIn(request, reply);
    if (!who) return reply;
    const form = (request.body ?? {}) as Record<string, unknown>;
    const problem = formProblem(request.headers, deps.publicUrl.origin, who.viewer.csrfToken, form);
    if (problem !== undefined) {
      request.log.warn({event: 'web delete', outcome: 'refused', reason: problem}, 'web delete refused');
      return send(reply, 403, messagePage(403, 'Refused', `This request was refused: ${problem}.`, who.viewer));
    }
    const {repository, reference, deleting} = pageOf((request.params as {'*': string})['*']);
    const deletion = deleting ? deletionToken(who.person, repository, reference) : undefined;
    if (deletion === undefined) return send(reply, 404, messagePage(404, undefined, undefined, who.viewer));
    try {
      // What was confirmed is what goes: a tag moved since names another image, which nobody confirmed.
      const {digest} = await reads.manifest(repository, reference!, deletion);
      if (digest !== form.digest) {
        const moved = `${repository}:${reference} names another image since you confirmed: look again before deleting.`;
        return send(reply, 409, messagePage(409, 'Not deleted', moved, who.viewer));
      }
      if (!(await reads.deleteManifest(repository, digest, deletion))) {
        const off = "The registry does not allow deletes (its storage.delete.enabled is off): ask the registry's operator.";
        return send(reply, 405, messagePage(405, 'Not deleted', off, who.viewer));
      }
      request.log.info(
        {event: 'web delete', account: who.person.account, repository, tag: reference, digest},
        'image deleted from the web hub',
      );
      return reply.code(303).header('cache-control', 'no-store').redirect(repositoryPath(repository));
    } catch (error) {
      return failedPage(request, reply, who.viewer, error);
    }
  });

  web.get(`${REPOSITORIES.slice(WEB_PREFIX.length)}/*`, async (request, reply) => {
    const who = await signedIn(request, reply);
    if (!who) return reply;
    const {repository, reference, deleting} = pageOf((request.params as {'*': string})['*']);
    // Not a name, not one the policy lets this person pull, or not in the registry: one and the same 404.
    const token = isValidRepositoryName(repository) && reference !== '' ? deps.pullToken(who.person, repository) : undefined;
    if (token === undefined) return send(reply, 404, messagePage(404, undefined, undefined, who.viewer));
    if (deleting) {
      if (deletionToken(who.person, repository, reference) === undefined)
        return send(reply, 404, messagePage(404, undefined, undefined, who.viewer));
      return answer(request, reply, who.viewer, async () => {
        const {digest} = await reads.manifest(repository, reference!, token);
        const allTags = await reads.tags(repository, token);
        const sameImage = (
          await inTurns(allTags, async (tag) => ((await reads.manifest(repository, tag, token)).digest === digest ? tag : undefined))
        ).filter((tag): tag is string => tag !== undefined);
        return page(
          `Delete ${repository}:${reference}`,
          deletionContent({repository, tag: reference!, digest, sameImage, csrfToken: who.viewer.csrfToken}),
          who.viewer,
        );
      });
    }
    return answer(request, reply, who.viewer, async () => {
      if (reference === undefined) {
        const query = request.query as Record<string, unknown>;
        const filter = String(query.q ?? '').trim();
        const [activity, allTags] = await Promise.all([
          deps.activity.ofRepository(repository, EVENTS_SHOWN),
          reads.tags(repository, token),
        ]);
        // Signatures and SBOMs are listed with the image they refer to, not as images of their own.
        const tags = allTags.filter((tag) => !isReferrerTag(tag) && tag.includes(filter));
        const summaries = await inTurns(tags.slice(0, TAGS_SHOWN), async (tag) => {
          const summary = await tagSummary(reads, repository, tag, token);
          const {cosign, fallbackIndex} = referrerTagsOf(summary.digest, allTags);
          return {
            ...summary,
            referrers: [...new Set([...cosign.map((found) => found.kind), ...(fallbackIndex ? ['artifact' as const] : [])])],
          };
        });
        const order = tagOrderOf(query.sort);
        const listing = {
          tags: orderedTags(summaries, order),
          filter,
          order,
          moreTags: tags.length - summaries.length,
          mayPush: deps.mayPush(who.person, repository),
          mayDelete: deps.deleteToken(who.person, repository) !== undefined,
        };
        return page(repository, repositoryContent(deps.registry.host, repository, listing, activity), who.viewer);
      }
      const {digest, manifest} = await reads.manifest(repository, reference, token);
      const view = {
        registryHost: deps.registry.host,
        repository,
        tag: isDigest(reference) ? undefined : reference,
        digest,
        manifest,
      };
      const referrers = await referrersOf(reads, repository, digest, token);
      if (isIndex(manifest)) return page(`${repository}@${digest}`, indexContent(view, referrers), who.viewer);
      const config = await reads.config(repository, manifest.config?.digest ?? '', token);
      return page(`${repository}@${digest}`, imageContent(view, config, referrers), who.viewer);
    });
  });
}

/** The page `build` makes, or the page that says why there is none: 404 for what the registry does not have, 503 when it cannot be read. */
async function answer(request: FastifyRequest, reply: FastifyReply, viewer: Viewer, build: () => Promise<Html>): Promise<FastifyReply> {
  try {
    return send(reply, 200, await build());
  } catch (error) {
    return failedPage(request, reply, viewer, error);
  }
}

/** The page of what failed: 404 for what the registry does not have, 503 when it cannot be read. */
function failedPage(request: FastifyRequest, reply: FastifyReply, viewer: Viewer, error: unknown): FastifyReply {
  if (error instanceof NotInRegistryError) return send(reply, 404, messagePage(404, undefined, undefined, viewer));
  // What failed, for the person; where and how (the registry's internal address, its answer) is for the operator's log.
  request.log.warn({event: 'web', reason: (error as Error).message}, 'registry not read for a web page');
  const detail =
    error instanceof RegistryUnavailableError
      ? 'The registry did not answer as it should just now; try again in a moment.'
      : 'The list of repositories could not be read just now; try again in a moment.';
  return send(reply, 503, messagePage(503, undefined, detail, viewer));
}

/** How many tags a repository has; undefined when the policy no longer lets the person pull it. None in the registry is none. */
async function tagCount(reads: RegistryReads, repository: string, token: LazyToken | undefined): Promise<number | undefined> {
  if (token === undefined) return undefined;
  try {
    return (await reads.tags(repository, token)).filter((tag) => !isReferrerTag(tag)).length;
  } catch (error) {
    if (error instanceof NotInRegistryError) return 0;
    throw error;
  }
}

/** What refers to the image by the tag schemes (referrers.ts): cosign's tags, and what an OCI fallback index lists. */
async function referrersOf(reads: RegistryReads, repository: string, digest: string, token: LazyToken): Promise<Referrer[]> {
  const {cosign, fallbackIndex} = referrerTagsOf(digest, await reads.tags(repository, token));
  if (fallbackIndex === undefined) return cosign;
  return [...cosign, ...fallbackReferrers(fallbackIndex, (await reads.manifest(repository, fallbackIndex, token)).manifest)];
}

async function tagSummary(reads: RegistryReads, repository: string, tag: string, token: LazyToken): Promise<Omit<TagSummary, 'referrers'>> {
  const {digest, manifest} = await reads.manifest(repository, tag, token);
  const images = isIndex(manifest)
    ? await Promise.all(
        platformImages(manifest).map(async (entry) => ({entry, read: await reads.manifest(repository, entry.digest, token)})),
      )
    : [{entry: undefined, read: {digest, manifest}}];
  const platforms = await Promise.all(
    images.map(async ({entry, read}) => {
      const config = read.manifest.config ? await reads.config(repository, read.manifest.config.digest, token) : {};
      return {
        platform: platformName(entry?.platform ?? config),
        digest: read.digest,
        size: compressedSize(read.manifest),
        created: config.created,
      };
    }),
  );
  return {tag, digest, platforms};
}

/** `work` for each item, a few at a time, in the items' order. */
async function inTurns<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({length: Math.min(READS_AT_ONCE, items.length)}, worker));
  return results;
}

/** A name from the path, or '' (no name) when its escapes are malformed. */
function decodedName(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return '';
  }
}
