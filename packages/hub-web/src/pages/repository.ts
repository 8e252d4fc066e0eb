import {html, type Html} from '../html.js';
import {imagePath} from '../paths.js';
import {pullCommands} from './pull-commands.js';
import {bytes, time} from './units.js';

/** One tag's image, or each platform's image of its index. */
export interface TagSummary {
  tag: string;
  digest: string;
  platforms: Array<{platform: string; digest: string; size: number; created: string | undefined}>;
}

export function repositoryContent(registryHost: string, repository: string, tags: readonly TagSummary[], moreTags: number): Html {
  return html`<h1>${repository}</h1>
    ${tags.length === 0 ? html`<p>This repository has no tags.</p>` : ''}
    ${moreTags > 0 ? html`<p class="muted">${moreTags} more tags are not shown.</p>` : ''}
    ${tags.map(
      (tag) =>
        html`<section aria-labelledby="tag-${tag.tag}">
          <h2 id="tag-${tag.tag}"><a href="${imagePath(repository, tag.tag)}">${tag.tag}</a></h2>
          <p>Digest <code>${tag.digest}</code></p>
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
        </section>`,
    )}`;
}
