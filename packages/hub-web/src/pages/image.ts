import {html, type Html} from '../html.js';
import {compressedSize, envNames, platformImages, platformName, type ImageConfig, type Manifest} from '../image-manifest.js';
import {imagePath, repositoryPath} from '@hub/protocol/web-paths';
import type {Referrer} from '../referrers.js';
import {pullCommands} from './pull-commands.js';
import {bytes, time} from './units.js';

/** The OCI annotations people look for, under names they read. */
const KNOWN_ANNOTATIONS: Record<string, string> = {
  'org.opencontainers.image.description': 'Description',
  'org.opencontainers.image.source': 'Source',
  'org.opencontainers.image.version': 'Version',
  'org.opencontainers.image.licenses': 'Licenses',
};

export interface ImageView {
  registryHost: string;
  repository: string;
  /** The tag the page was opened by, if it was. */
  tag: string | undefined;
  digest: string;
  manifest: Manifest;
}

const heading = (view: ImageView) =>
  html`<p><a href="${repositoryPath(view.repository)}">${view.repository}</a></p>
    <h1>${view.tag === undefined ? view.digest : `${view.repository}:${view.tag}`}</h1>
    <p>Digest <code>${view.digest}</code></p>`;

function pairs(title: string, entries: ReadonlyArray<[string, string]>): Html {
  if (entries.length === 0) return html``;
  return html`<section>
    <h2>${title}</h2>
    <dl>
      ${entries.map(
        ([name, value]) =>
          html`<dt>${KNOWN_ANNOTATIONS[name] ?? name}</dt>
            <dd>${value}</dd>`,
      )}
    </dl>
  </section>`;
}

/** Signatures, attestations and SBOMs that refer to the image, each a link to what the registry holds. */
function referrersContent(repository: string, referrers: readonly Referrer[]): Html {
  return html`<section>
    <h2>Signatures and SBOMs</h2>
    ${
      referrers.length === 0
        ? html`<p class="muted">Nothing refers to this image (cosign's sha256-… tags, or an OCI referrers index).</p>`
        : html`<ul>
            ${referrers.map(
              (referrer) =>
                html`<li>
                  ${referrer.kind}${referrer.artifactType && html` (<code>${referrer.artifactType}</code>)`}:
                  <a href="${imagePath(repository, referrer.digest ?? referrer.tag)}"><code>${referrer.digest ?? referrer.tag}</code></a>
                </li>`,
            )}
          </ul>`
    }
  </section>`;
}

/** An index: its platforms, each a link to its image. */
export function indexContent(view: ImageView, referrers: readonly Referrer[] = []): Html {
  return html`${heading(view)}
    <section>
      <h2>Platforms</h2>
      <ul>
        ${platformImages(view.manifest).map(
          (entry) =>
            html`<li>
              <a href="${imagePath(view.repository, entry.digest)}">${platformName(entry.platform ?? {})}</a> <code>${entry.digest}</code>
            </li>`,
        )}
      </ul>
    </section>
    ${pairs('Annotations', Object.entries(view.manifest.annotations ?? {}))} ${referrersContent(view.repository, referrers)}
    ${pullCommands(view.registryHost, view.repository, view.tag, view.digest)}`;
}

const list = (values: readonly string[] | null | undefined) => (values && values.length > 0 ? JSON.stringify(values) : 'none');

/** One image: what it runs, its layers and their history, its labels and annotations; environment variable names only. */
export function imageContent(view: ImageView, config: ImageConfig, referrers: readonly Referrer[] = []): Html {
  const run = config.config;
  const layers = view.manifest.layers ?? [];
  return html`${heading(view)}
    <section>
      <h2>Summary</h2>
      <dl>
        <dt>Platform</dt>
        <dd>${platformName(config)}</dd>
        <dt>Compressed size</dt>
        <dd>${bytes(compressedSize(view.manifest))}</dd>
        <dt>Created</dt>
        <dd>${time(config.created)}</dd>
        <dt>Entrypoint</dt>
        <dd><code>${list(run?.Entrypoint)}</code></dd>
        <dt>Command</dt>
        <dd><code>${list(run?.Cmd)}</code></dd>
        <dt>Exposed ports</dt>
        <dd>${Object.keys(run?.ExposedPorts ?? {}).join(', ') || 'none'}</dd>
        <dt>Environment variables</dt>
        <dd>${envNames(config).join(', ') || 'none'}</dd>
      </dl>
    </section>
    ${pairs('Labels', Object.entries(run?.Labels ?? {}))} ${pairs('Annotations', Object.entries(view.manifest.annotations ?? {}))}
    <section>
      <h2>Layers</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Compressed size</th>
            <th scope="col">Digest</th>
          </tr>
        </thead>
        <tbody>
          ${layers.map(
            (layer, index) =>
              html`<tr>
                <td>${index + 1}</td>
                <td>${bytes(layer.size)}</td>
                <td><code>${layer.digest}</code></td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section>
      <h2>History</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Created</th>
            <th scope="col">Created by</th>
          </tr>
        </thead>
        <tbody>
          ${(config.history ?? []).map(
            (step) =>
              html`<tr>
                <td>${time(step.created)}</td>
                <td><code>${step.created_by ?? step.comment ?? ''}</code></td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    ${referrersContent(view.repository, referrers)} ${pullCommands(view.registryHost, view.repository, view.tag, view.digest)}`;
}
