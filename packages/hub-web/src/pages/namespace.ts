import {html, type Html} from '../html.js';
import {repositoryPath} from '@hub/protocol/web-paths';
import type {Grantee, NamespaceGrant} from '../web-deps.js';

function whoIs(who: Grantee): string {
  switch (who.kind) {
    case 'anonymous':
      return 'anyone, without signing in';
    case 'account':
      return `the account ${who.name}`;
    case 'group':
      return `members of the group ${who.name}`;
    case 'signed-in': {
      const kept = [who.accounts && `accounts named ${who.accounts}`, who.groups && `members of groups named ${who.groups}`].filter(
        Boolean,
      );
      return kept.length === 0 ? 'every signed-in account' : kept.join(', if ');
    }
  }
}

const mayDo = (actions: readonly string[]) => (actions.includes('*') ? 'pull, push and delete' : actions.join(', '));

/** A namespace: who the policy lets do what under it, rule by rule, and the repositories there one may pull. */
export function namespaceContent(namespace: string, repositories: readonly string[], grants: readonly NamespaceGrant[]): Html {
  return html`<h1>${namespace}</h1>
    <section>
      <h2>Who may do what here</h2>
      ${
        grants.length === 0
          ? html`<p>The policy names nobody for this namespace as a whole.</p>`
          : html`<table>
              <caption class="muted">
                As the policy says, in its order: for each person and name, the first line that fits decides.
              </caption>
              <thead>
                <tr>
                  <th scope="col">Who</th>
                  <th scope="col">May</th>
                  <th scope="col">Which names</th>
                </tr>
              </thead>
              <tbody>
                ${grants.map(
                  (grant) =>
                    html`<tr>
                      <td>${whoIs(grant.who)}</td>
                      <td>${mayDo(grant.actions)}</td>
                      <td>${grant.names === undefined ? `all under ${namespace}/` : html`<code>${grant.names}</code>`}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
    </section>
    <section>
      <h2>Repositories you may pull here</h2>
      <ul class="names">
        ${repositories.map((name) => html`<li><a href="${repositoryPath(name)}">${name}</a></li>`)}
      </ul>
    </section>`;
}
