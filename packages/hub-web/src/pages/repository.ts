import {html, type Html} from '../html.js';
import {deletePath, imagePath, repositoryPath} from '@hub/protocol/web-paths';
import {pullCommands} from './pull-commands.js';
import type {ReferrerKind} from '../referrers.js';
import type {RegistryEvent} from '../web-deps.js';
import {bytes, moment, time} from './units.js';

/** One tag's image, or each platform's image of its index. */
export interface TagSummary {
  tag: string;
  digest: string;
  /** What refers to its image (signatures, attestations, SBOMs: referrers.ts), by kind. */
  referrers: readonly ReferrerKind[];
  platforms: Array<{platform: string; digest: string; size: number; created: string | undefined}>;
}

/** How the tags are listed: by name, or the most recently created first. */
export type TagOrder = 'name' | 'created';

export const tagOrderOf = (value: unknown): TagOrder => (value === 'created' ? 'created' : 'name');

const newest = (tag: TagSummary) => tag.platforms.reduce((latest, image) => Math.max(latest, Date.parse(image.created ?? '') || 0), 0);

/** The tags in that order; by creation, those of unknown time last and ties by name. */
export function orderedTags(tags: readonly TagSummary[], order: TagOrder): TagSummary[] {
  const byName = [...tags].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return order === 'name' ? byName : byName.sort((a, b) => newest(b) - newest(a));
}

/** What the registry's notifications said of the repository: its newest pushes and deletes, and its pulls. */
export interface RepositoryActivityView {
  events: readonly RegistryEvent[];
  pulls: number;
}

export interface TagListing {
  /** Whether the policy lets the person push here, and delete. */
  mayPush?: boolean;
  mayDelete?: boolean;
  /** The tags whose name holds `filter`, in `order`. */
  tags: readonly TagSummary[];
  filter: string;
  order: TagOrder;
  /** Tags that matched and are not shown: a narrower filter shows them. */
  moreTags: number;
}

export function repositoryContent(
  registryHost: string,
  repository: string,
  listing: TagListing,
  activity: RepositoryActivityView = {events: [], pulls: 0},
): Html {
  const {tags, filter, order, moreTags} = listing;
  return html`<h1>${repository}</h1>
    <p>
      ${
        listing.mayPush
          ? html`You may pull and push here: <code>hub push ${registryHost}/${repository}:TAG</code>`
          : 'You may pull from here; pushing is for others.'
      }
    </p>
    <form method="get" action="${repositoryPath(repository)}" role="search">
      <label for="filter">Filter tags</label>
      <input type="search" id="filter" name="q" value="${filter}" />
      <label for="order">Sort by</label>
      <select id="order" name="sort">
        <option value="name" ${order === 'name' && html`selected`}>name</option>
        <option value="created" ${order === 'created' && html`selected`}>most recently created</option>
      </select>
      <button type="submit">Show</button>
    </form>
    ${tags.length === 0 ? html`<p>${filter === '' ? 'This repository has no tags.' : 'No tag matches the filter.'}</p>` : ''}
    ${moreTags > 0 ? html`<p class="muted">${moreTags} more tags are not shown.</p>` : ''}
    ${tags.map(
      (tag) =>
        html`<section aria-labelledby="tag-${tag.tag}">
          <h2 id="tag-${tag.tag}"><a href="${imagePath(repository, tag.tag)}">${tag.tag}</a></h2>
          <p>Digest <code>${tag.digest}</code></p>
          ${tag.referrers.length > 0 && html`<p>Attached: ${tag.referrers.map((kind) => (kind === 'artifact' ? 'more on the image page' : kind)).join(', ')}</p>`}
          <table>
            <caption class="muted">
              Platforms of ${tag.tag}
            </caption>
            <thead>
              <tr>
                <th scope="col">OS/architecture</th>
                <th scope="col">Compressed size</th>
                <th scope="col">Created</th>
                <th scope="col">Digest</th>
              </tr>
            </thead>
            <tbody>
              ${tag.platforms.map(
                (image) =>
                  html`<tr>
                    <td><a href="${imagePath(repository, image.digest)}">${image.platform}</a></td>
                    <td>${bytes(image.size)}</td>
                    <td>${time(image.created)}</td>
                    <td><code>${image.digest}</code></td>
                  </tr>`,
              )}
            </tbody>
          </table>
          ${pullCommands(registryHost, repository, tag.tag, tag.digest)}
          ${listing.mayDelete && html`<p><a href="${deletePath(repository, tag.tag)}">Delete ${tag.tag}…</a></p>`}
        </section>`,
    )}
    ${activityContent(repository, activity)}`;
}

function activityContent(repository: string, {events, pulls}: RepositoryActivityView): Html {
  return html`<section aria-labelledby="activity">
    <h2 id="activity">Activity</h2>
    <p>${pulls === 1 ? 'Pulled once' : `Pulled ${pulls} times`}, as the registry reports it.</p>
    ${
      events.length === 0
        ? html`<p class="muted">No push recorded yet.</p>`
        : html`<table>
            <caption class="muted">
              Pushes and deletes, newest first
            </caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col">Tag</th>
                <th scope="col">Digest</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody>
              ${events.map(
                (event) =>
                  html`<tr>
                    <td>${moment(event.at)}</td>
                    <td>${event.action === 'push' ? 'pushed' : 'deleted'}</td>
                    <td>${event.tag ?? ''}</td>
                    <td>
                      <a href="${imagePath(repository, event.digest)}"><code>${event.digest}</code></a>
                    </td>
                    <td>${event.by ?? 'unknown'}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
  </section>`;
}
