import {describe, expect, it} from 'vitest';
import {clearCookie, cookieNames, newSessionId, readCookie, sessionIdHash, setCookie} from '../src/session-cookie.js';

describe('the session cookie', () => {
  it('is __Host- and Secure over https, plainly named over loopback http', () => {
    expect(cookieNames(new URL('https://hub.example.com'))).toEqual({
      session: '__Host-hub_session',
      signIn: '__Host-hub_sign_in',
      secure: true,
    });
    expect(cookieNames(new URL('http://127.0.0.1:5001'))).toEqual({session: 'hub_session', signIn: 'hub_sign_in', secure: false});
  });

  it('is HttpOnly, SameSite=Lax, for the whole host, for its lifetime', () => {
    expect(setCookie('__Host-hub_session', 'v', {secure: true, maxAgeSeconds: 3600})).toBe(
      '__Host-hub_session=v; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure',
    );
    expect(setCookie('hub_session', 'v', {secure: false, maxAgeSeconds: 60})).toBe(
      'hub_session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax',
    );
    expect(clearCookie('hub_session', false)).toBe('hub_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax');
  });

  it('ids are 256 random bits, and the store gets their SHA-256 only', () => {
    const id = newSessionId();
    expect(Buffer.from(id, 'base64url')).toHaveLength(32);
    expect(newSessionId()).not.toBe(id);
    expect(sessionIdHash(id)).toMatch(/^[a-f0-9]{64}$/);
    expect(sessionIdHash(id)).not.toContain(id);
  });

  it('reads its cookie out of a Cookie header, not one whose name ends the same', () => {
    expect(readCookie('x_hub_session=no; hub_session=yes; other=1', 'hub_session')).toBe('yes');
    expect(readCookie('hub_session=', 'hub_session')).toBeUndefined();
    expect(readCookie(undefined, 'hub_session')).toBeUndefined();
  });
});
