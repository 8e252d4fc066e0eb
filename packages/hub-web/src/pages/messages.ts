import {html, type Html} from '../html.js';
import {SIGN_IN} from '@hub/protocol/web-paths';
import {page, type Viewer} from './layout.js';

/** The sign-in page: what a browser without a session sees, wherever it was going. */
export function signInPage(returnTo: string, problem?: string): Html {
  return page(
    'Sign in',
    html`<h1>Sign in</h1>
      ${problem && html`<p role="alert">${problem}</p>`}
      <p>See the images of this registry that you may pull: sign in with your company account.</p>
      <p><a href="${SIGN_IN}?${new URLSearchParams({return: returnTo}).toString()}">Sign in</a></p>`,
  );
}

const TITLES: Record<number, [string, string]> = {
  404: ['Not found', 'There is no such repository or image, or you may not pull it.'],
  503: ['The registry cannot be reached', 'The registry did not answer just now; try again in a moment.'],
};

/** A page that says what went wrong and nothing of how: never a stack trace. */
export function messagePage(status: number, title?: string, detail?: string, viewer?: Viewer): Html {
  const [defaultTitle, defaultDetail] = TITLES[status] ?? ['Something went wrong', ''];
  return page(
    title ?? defaultTitle,
    html`<h1>${title ?? defaultTitle}</h1>
      <p>${detail ?? defaultDetail}</p>`,
    viewer,
  );
}
