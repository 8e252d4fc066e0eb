import {html, type Html} from '../html.js';
import {HOME, repositoryPath} from '../paths.js';

/** Names shown at once: a filter narrows a longer list. */
export const MAX_LISTED = 500;

/** A name's namespace: its first path component, or none for a name of one component. */
const namespaceOf = (name: string) => (name.includes('/') ? name.slice(0, name.indexOf('/')) : '');

/** The repositories one may pull, grouped by namespace, narrowed to those whose name holds `filter`. */
export function repositoriesContent(names: readonly string[], filter: string): Html {
  const wanted = filter.trim().toLowerCase();
  const matching = names.filter((name) => name.includes(wanted)).sort();
  const shown = matching.slice(0, MAX_LISTED);
  const groups = new Map<string, string[]>();
  for (const name of shown) groups.set(namespaceOf(name), [...(groups.get(namespaceOf(name)) ?? []), name]);
  return html`<h1>Repositories you may pull</h1>
    <form method="get" action="${HOME}" role="search">
      <label for="filter">Filter by name</label>
      <input type="search" id="filter" name="q" value="${filter}" />
      <button type="submit">Filter</button>
    </form>
    <p class="muted">
      ${matching.length} of ${names.length}
      repositories${matching.length > shown.length ? `; the first ${shown.length} are shown: filter to see the others` : ''}.
    </p>
    ${[...groups].map(
      ([namespace, inside]) =>
        html`<section>
          <h2>${namespace === '' ? 'Top level' : namespace}</h2>
          <ul class="names">
            ${inside.map((name) => html`<li><a href="${repositoryPath(name)}">${name}</a></li>`)}
          </ul>
        </section>`,
    )}`;
}
