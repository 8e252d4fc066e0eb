import {html, type Html} from '../html.js';
import {HOME, namespacePath, repositoryPath} from '@hub/protocol/web-paths';
import type {RegistryEvent} from '../web-deps.js';
import {byWhom, moment} from './units.js';

/** Names on one page of the list; further pages follow, and a filter narrows them. */
export const PAGE_SIZE = 200;

/** A name's namespace: its first path component, or none for a name of one component. */
const namespaceOf = (name: string) => (name.includes('/') ? name.slice(0, name.indexOf('/')) : '');

const pageLink = (filter: string, page: number, label: string, rel: string) =>
  html`<a rel="${rel}" href="${HOME}?${new URLSearchParams({q: filter, page: String(page)}).toString()}">${label}</a>`;

/** The page of the list asked for: the names that hold the filter, and those of page `current` (from 1) of them. */
export interface RepositoryListing {
  filter: string;
  total: number;
  matching: number;
  shown: string[];
  current: number;
  pages: number;
}

export function repositoryListing(names: readonly string[], filter: string, page = 1): RepositoryListing {
  const wanted = filter.trim().toLowerCase();
  const matching = names.filter((name) => name.includes(wanted)).sort();
  const pages = Math.max(1, Math.ceil(matching.length / PAGE_SIZE));
  const current = Math.min(Math.max(1, Math.floor(page) || 1), pages);
  const shown = matching.slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE);
  return {filter, total: names.length, matching: matching.length, shown, current, pages};
}

/** What the list says of each repository shown: its tags count, and its last push where the registry told of one. */
export interface RepositorySummary {
  tags: number | undefined;
  lastPush: RegistryEvent | undefined;
}

/** The repositories one may pull, grouped by namespace, each with its summary where there is one. */
export function repositoriesContent(listing: RepositoryListing, summaries: ReadonlyMap<string, RepositorySummary> = new Map()): Html {
  const {filter, total, matching, shown, current, pages} = listing;
  const groups = new Map<string, string[]>();
  for (const name of shown) groups.set(namespaceOf(name), [...(groups.get(namespaceOf(name)) ?? []), name]);
  return html`<h1>Repositories you may pull</h1>
    <form method="get" action="${HOME}" role="search">
      <label for="filter">Filter by name</label>
      <input type="search" id="filter" name="q" value="${filter}" />
      <button type="submit">Filter</button>
    </form>
    <p class="muted">${matching} of ${total} repositories${pages > 1 ? `, page ${current} of ${pages}` : ''}.</p>
    ${[...groups].map(
      ([namespace, inside]) =>
        html`<section>
          <h2>${namespace === '' ? 'Top level' : html`<a href="${namespacePath(namespace)}">${namespace}</a>`}</h2>
          <ul class="names">
            ${inside.map((name) => html`<li><a href="${repositoryPath(name)}">${name}</a>${summary(summaries.get(name))}</li>`)}
          </ul>
        </section>`,
    )}
    ${
      pages > 1 &&
      html`<nav aria-label="Pages">
        ${current > 1 && pageLink(filter, current - 1, 'Previous page', 'prev')}
        ${current < pages && pageLink(filter, current + 1, 'Next page', 'next')}
      </nav>`
    }`;
}

function summary(of: RepositorySummary | undefined): Html | undefined {
  if (!of) return undefined;
  const tags = of.tags === undefined ? undefined : of.tags === 1 ? '1 tag' : `${of.tags} tags`;
  const pushed = of.lastPush && `last pushed ${moment(of.lastPush.at)}${byWhom(of.lastPush)}`;
  const said = [tags, pushed].filter((part) => part !== undefined);
  return said.length === 0 ? undefined : html` <span class="muted">${said.join(', ')}</span>`;
}
