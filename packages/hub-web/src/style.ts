import {createHash} from 'node:crypto';
import type {FastifyInstance} from 'fastify';

/**
 * The one stylesheet, served under a name with its hash: browsers keep it for a year and a new
 * version is a new name. Light or dark as the system prefers; contrast at least 4.5:1 in both.
 */
const CSS = `:root{color-scheme:light dark;--bg:#fff;--fg:#1b1b1f;--muted:#4a4a55;--line:#d4d4dc;--accent:#0b57d0;--code:#f2f2f6}
@media (prefers-color-scheme:dark){:root{--bg:#131318;--fg:#e6e6ea;--muted:#b4b4c0;--line:#3a3a46;--accent:#8ab4f8;--code:#1f1f27}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,sans-serif;background:var(--bg);color:var(--fg)}
header,main,footer{max-width:72rem;margin:0 auto;padding:.75rem 1rem}
header{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;justify-content:space-between;border-bottom:1px solid var(--line)}
header a.home{font-weight:700;text-decoration:none}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
button,input{font:inherit;color:inherit}
button{background:var(--bg);border:1px solid var(--muted);border-radius:.25rem;padding:.25rem .75rem;cursor:pointer}
input[type=search]{background:var(--bg);border:1px solid var(--muted);border-radius:.25rem;padding:.25rem .5rem;min-width:16rem;max-width:100%}
form.inline{display:inline}
.muted{color:var(--muted)}
table{border-collapse:collapse;width:100%;display:block;overflow-x:auto}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
code,pre{font:14px/1.4 ui-monospace,monospace;background:var(--code);border-radius:.25rem}
code{padding:0 .25rem;overflow-wrap:anywhere}
pre{padding:.5rem;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere;user-select:all}
ul.names{list-style:none;padding:0;columns:18rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dt{font-weight:600}
dd{margin:0;overflow-wrap:anywhere}
`;

const HASH = createHash('sha256').update(CSS).digest('hex').slice(0, 16);

/** The stylesheet's path under /web, for the pages' <link>. */
export const STYLE_PATH = `/static/style.${HASH}.css`;

export function registerStyle(web: FastifyInstance): void {
  web.get(STYLE_PATH, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=31536000, immutable').send(CSS),
  );
}
