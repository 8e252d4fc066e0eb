import {createHash, timingSafeEqual} from 'node:crypto';

/**
 * Protection of state-changing requests (sign-out, deleting an image) from other sites, twice over: the browser's own
 * word on where the request comes from (Origin, Sec-Fetch-Site) must be this origin, and the form
 * must carry a token only a page of this session shows. The token is a hash of the session id, so
 * nothing more is stored and the id cannot be had from it.
 */

export function csrfTokenFor(sessionId: string): string {
  return createHash('sha256').update(`hub-web csrf\0${sessionId}`).digest('base64url');
}

/** Whether a form's token is the one expected (a signed-in page's `viewer.csrfToken`), compared in constant time. */
export function isCsrfToken(expected: string, token: unknown): boolean {
  if (typeof token !== 'string') return false;
  const given = Buffer.from(token);
  return given.length === Buffer.byteLength(expected) && timingSafeEqual(given, Buffer.from(expected));
}

/** Why the request is not from a page of this origin, or undefined when it is. */
export function crossSiteProblem(headers: Record<string, string | string[] | undefined>, origin: string): string | undefined {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return `the request comes from another site (Sec-Fetch-Site: ${String(site)})`;
  const from = headers.origin;
  if (from !== undefined && from !== origin) return `the request comes from another origin (${String(from)})`;
  return undefined;
}

/**
 * Why a state-changing form (sign-out, a deletion) is refused: it comes from another site, or it
 * lacks the token of this session's pages, `expected` (none without a session); undefined when not.
 */
export function formProblem(
  headers: Record<string, string | string[] | undefined>,
  origin: string,
  expected: string | undefined,
  body: unknown,
): string | undefined {
  const token = (body as Record<string, unknown> | undefined)?.csrf;
  return (
    crossSiteProblem(headers, origin) ??
    (expected !== undefined && !isCsrfToken(expected, token) ? 'the form did not come from a page of this session' : undefined)
  );
}
