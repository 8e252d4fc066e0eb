import {createHash, randomBytes} from 'node:crypto';

/**
 * The one cookie the browser holds for a web session, and the short-lived one of a sign-in under
 * way. Over https the session cookie is `__Host-` (Secure, Path=/, no Domain: no other host or
 * path can set or shadow it). Over plain http, which only a loopback test or a development set-up
 * uses, browsers do not reliably keep a Secure cookie and refuse `__Host-` without Secure, so the
 * name is plain there. Both are HttpOnly (no script reads them) and SameSite=Lax (not sent with a
 * cross-site POST, still sent when the provider redirects the browser back).
 */

export interface CookieNames {
  session: string;
  signIn: string;
  secure: boolean;
}

export function cookieNames(publicUrl: URL): CookieNames {
  const secure = publicUrl.protocol === 'https:';
  return secure
    ? {session: '__Host-hub_session', signIn: '__Host-hub_sign_in', secure}
    : {session: 'hub_session', signIn: 'hub_sign_in', secure};
}

/** 256 random bits: the session id is the only proof of a session, so it cannot be guessed. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/** What the store keeps instead of the id: a store that leaks gives nobody a session. */
export function sessionIdHash(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex');
}

export function setCookie(name: string, value: string, options: {secure: boolean; maxAgeSeconds: number}): string {
  return [
    `${name}=${value}`,
    'Path=/',
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}

export const clearCookie = (name: string, secure: boolean) => setCookie(name, '', {secure, maxAgeSeconds: 0});

/** The value of one cookie of a Cookie header; the first one when a name repeats. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim() || undefined;
  }
  return undefined;
}
