import {html, type Html} from '../html.js';
import {HOME, SIGN_OUT, WEB_PREFIX} from '@hub/protocol/web-paths';
import {STYLE_PATH} from '../style.js';

/** Who the page is shown to: their account, and the token their sign-out form carries. */
export interface Viewer {
  account: string;
  csrfToken: string;
}

export function page(title: string, content: Html, viewer?: Viewer): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · hub</title>
        <link rel="stylesheet" href="${WEB_PREFIX}${STYLE_PATH}" />
      </head>
      <body>
        <header>
          <a class="home" href="${HOME}">hub</a>
          ${
            viewer &&
            html`<form class="inline" method="post" action="${SIGN_OUT}">
              <span class="muted">Signed in as <strong>${viewer.account}</strong></span>
              <input type="hidden" name="csrf" value="${viewer.csrfToken}" />
              <button type="submit">Sign out</button>
            </form>`
          }
        </header>
        <main>${content}</main>
      </body>
    </html> `;
}
