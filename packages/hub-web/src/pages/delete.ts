import {html, type Html} from '../html.js';
import {deletePath, repositoryPath} from '@hub/protocol/web-paths';

export interface DeletionView {
  repository: string;
  tag: string;
  digest: string;
  /** Every tag that names the same image: the registry deletes by digest, so they all go. */
  sameImage: readonly string[];
  csrfToken: string;
}

/** The confirmation before a tag's image is deleted, saying everything that goes with it. */
export function deletionContent(view: DeletionView): Html {
  const others = view.sameImage.filter((tag) => tag !== view.tag);
  return html`<p><a href="${repositoryPath(view.repository)}">${view.repository}</a></p>
    <h1>Delete ${view.repository}:${view.tag}?</h1>
    <p>
      This deletes the image <code>${view.digest}</code> from the registry. The registry deletes an image, not a tag, so
      ${others.length === 0 ? 'only this tag names it, and it goes with it.' : html`these tags go with it too: ${others.join(', ')}.`} Pulls
      of it fail from then on; the layers are freed at the registry's next garbage collection.
    </p>
    <form method="post" action="${deletePath(view.repository, view.tag)}">
      <input type="hidden" name="csrf" value="${view.csrfToken}" />
      <input type="hidden" name="digest" value="${view.digest}" />
      <button type="submit">Yes, delete it</button>
      <a href="${repositoryPath(view.repository)}">No, keep it</a>
    </form>`;
}
