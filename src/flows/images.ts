import type {Context} from '../context.js';
import {HubError} from '@hub/common/errors';
import {grantedAccess, registryClient, type RegistryClient} from '../registry/client.js';
import {currentSession} from '../session/credentials.js';
import {parseImageReference} from '../docker/image-reference.js';

export interface ImagesResult {
  registry: string;
  repositories: Array<{name: string; tags?: string[]; pushes?: TagPushes}>;
}

/** Who last pushed each tag, and when (ISO 8601), where the registry's token service heard it from the registry. */
export type TagPushes = Record<string, {digest: string; by: string | null; at: string}>;

/** hub-auth grants at most this many scopes in one token request. */
const SCOPES_PER_REQUEST = 50;

/**
 * The repositories the user may pull, or one repository's tags. hub-auth lists the repositories
 * a user may pull itself (the catalog is not granted to users by default); another token service
 * is asked for the catalog, kept to what a token grants `pull` on.
 */
export async function images(ctx: Context, options: {registry?: string; repository?: string}): Promise<ImagesResult> {
  // What `hub images` prints (REGISTRY/path[:tag]) is taken back as push and pull take it: its registry wins.
  const wanted = options.repository === undefined ? undefined : parseImageReference(options.repository);
  const {registry, session} = await currentSession(ctx, wanted?.domain ?? options.registry);
  const client = registryClient(registry, session);
  if (wanted) {
    const name = wanted.path.includes('/') ? wanted.path : `${session.account}/${wanted.path}`;
    // One answer for "absent" and "not yours": which names exist is not the user's to learn.
    const unknown = new HubError(`No repository ${name} on ${registry.host} (or you may not pull it).`, {
      code: 'repository_unknown',
      suggestions: ['Run `hub images` to see the repositories you may pull.'],
    });
    const token = await client.token([`repository:${name}:pull`]);
    if (grantedAccess(token).length === 0) throw unknown;
    try {
      const [{tags}, pushed] = await Promise.all([
        client.get<{tags: string[] | null}>(`/v2/${name}/tags/list`, token),
        client.pushes(name),
      ]);
      // A tag named, as in a printed line, keeps the list to that tag, as `docker images REPO:TAG` does.
      const listed = (tags ?? []).filter((tag) => wanted.tag === undefined || tag === wanted.tag);
      const pushes = pushed && Object.fromEntries(pushed.filter((push) => listed.includes(push.tag)).map(({tag, ...push}) => [tag, push]));
      return {registry: registry.host, repositories: [{name, tags: listed, ...(pushes && {pushes})}]};
    } catch (error) {
      throw error instanceof HubError && error.code === 'registry_not_found' ? unknown : error;
    }
  }
  const repositories = (await client.pullableRepositories()) ?? (await pullableFromCatalog(client));
  return {registry: registry.host, repositories: [...repositories].sort().map((name) => ({name}))};
}

/**
 * What `hub images` prints on stdout: one image a line, which push and pull take back. For a
 * person at a terminal (`withPushes`), each tag's last push follows in a column of its own.
 */
export function imageLines(result: ImagesResult, options: {withPushes?: boolean} = {}): string[] {
  return result.repositories.flatMap(({name, tags, pushes}) => {
    if (!tags) return [`${result.registry}/${name}`];
    const images = tags.map((tag) => `${result.registry}/${name}:${tag}`);
    if (!options.withPushes || !pushes) return images;
    const width = Math.max(...images.map((image) => image.length));
    return tags.map((tag, index) => {
      const push = pushes[tag];
      const said = push && `pushed ${push.at.slice(0, 19).replace('T', ' ')} UTC${push.by === null ? '' : ` by ${push.by}`}`;
      return said ? `${images[index]!.padEnd(width)}  ${said}` : images[index]!;
    });
  });
}

/** Said (on stderr, so that stdout stays a plain list) when there is no image to list. */
export function nothingToList(result: ImagesResult): string | undefined {
  if (imageLines(result).length > 0) return undefined;
  const [only] = result.repositories;
  return only ? `${result.registry}/${only.name} has no tags.` : `There is nothing on ${result.registry} that you may pull.`;
}

async function pullableFromCatalog(client: RegistryClient): Promise<string[]> {
  const catalogToken = await client.token(['registry:catalog:*']);
  if (!grantedAccess(catalogToken).some((entry) => entry.type === 'registry' && entry.name === 'catalog')) {
    throw new HubError('The registry lists neither its catalog nor your repositories for you.', {
      code: 'denied',
      suggestions: ['Name a repository to see its tags: `hub images NAME`.'],
    });
  }
  const repositories = await client.catalog(catalogToken);
  const visible: string[] = [];
  for (let i = 0; i < repositories.length; i += SCOPES_PER_REQUEST) {
    const batch = repositories.slice(i, i + SCOPES_PER_REQUEST);
    const token = await client.token(batch.map((name) => `repository:${name}:pull`));
    visible.push(
      ...grantedAccess(token)
        .filter((entry) => entry.actions.includes('pull'))
        .map((entry) => entry.name),
    );
  }
  return visible;
}
