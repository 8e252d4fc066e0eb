/**
 * Listing repositories, as hub and hub-auth both do it: distribution's catalog, page by page, and
 * hub-auth's listings of what one user may pull, and of the names they may push and pull under.
 */

/** distribution serves at most this many entries a page (catalog.maxentries). */
export const CATALOG_PAGE_SIZE = 1000;
/** A registry that links page after page forever is not followed further. */
export const MAX_CATALOG_PAGES = 1000;
export const FIRST_CATALOG_PAGE = `/v2/_catalog?n=${CATALOG_PAGE_SIZE}`;

/**
 * hub-auth's listing of the repositories the caller may pull, next to the realm (`…/token` →
 * `…/repositories`), with the same credentials as a token request. The catalog itself is for
 * policy rules that grant it; this is how `hub images` lists without one.
 */
export const REPOSITORY_LISTING = 'repositories';

export function repositoryListingUrl(realm: string): URL {
  return new URL(REPOSITORY_LISTING, realm);
}

export interface RepositoryListing {
  repositories: string[];
}

/**
 * hub-auth's listing of the names the caller may push to and pull from under its policy, next to
 * the realm (`…/token` → `…/namespaces`), with the same credentials as a token request: what a
 * refused `hub push` or `hub pull` tells the person. Each entry is a name or a glob whose `*`
 * stands for any run of characters, with the caller's account and groups filled in: `alice/*`,
 * `groups/dev/*`, `library/*`.
 */
export const NAMESPACE_LISTING = 'namespaces';

export function namespaceListingUrl(realm: string): URL {
  return new URL(NAMESPACE_LISTING, realm);
}

export interface NamespaceListing {
  account: string;
  push: string[];
  pull: string[];
}

/** A `Link` that points away from the registry: following it would send the token elsewhere. */
export class ForeignCatalogLinkError extends Error {
  override name = 'ForeignCatalogLinkError';
}

/**
 * The next catalog page a page's `Link` header names (`<…>; rel="next"`), resolved against the
 * page as a URL, or undefined on the last page. The token goes with the next request, so the
 * link must stay on the page's origin (scheme, host and port).
 */
export function nextCatalogPage(linkHeader: string | null, page: URL): URL | undefined {
  const target = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(linkHeader ?? '')?.[1];
  if (target === undefined) return undefined;
  const next = URL.canParse(target, page.href) ? new URL(target, page) : undefined;
  if (next === undefined || next.origin !== page.origin) {
    throw new ForeignCatalogLinkError(
      `the registry's catalog links its next page to ${JSON.stringify(target.slice(0, 200))}, outside ${page.origin}`,
    );
  }
  return next;
}

/**
 * hub-auth's listing of who last pushed each tag of one repository, and when, next to the realm
 * (`…/token` → `…/pushes?repository=NAME`), with the same credentials as a token request: what the
 * registry's notifications told hub-auth (`hub images REPOSITORY`). A repository the caller may not
 * pull gets the same 404 as one hub-auth knows nothing of.
 */
export const PUSH_LISTING = 'pushes';

export function pushListingUrl(realm: string, repository: string): URL {
  const url = new URL(PUSH_LISTING, realm);
  url.searchParams.set('repository', repository);
  return url;
}

export interface PushListing {
  repository: string;
  /** The last push of each tag the registry told of; times as ISO 8601. */
  pushes: Array<{tag: string; digest: string; by: string | null; at: string}>;
}
