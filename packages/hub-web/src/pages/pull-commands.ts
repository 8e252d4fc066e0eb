import {html, type Html} from '../html.js';

/** The commands that pull an image, by tag and pinned by its digest, in a block a click selects whole. */
export function pullCommands(registryHost: string, repository: string, tag: string | undefined, digest: string): Html {
  const image = `${registryHost}/${repository}`;
  const commands = [
    ...(tag === undefined ? [] : [`hub pull ${image}:${tag}`, `docker pull ${image}:${tag}`]),
    `hub pull ${image}@${digest}`,
    `docker pull ${image}@${digest}`,
  ];
  return html`<details>
    <summary>Pull commands</summary>
    ${commands.map((command) => html`<pre><code>${command}</code></pre>`)}
  </details>`;
}
