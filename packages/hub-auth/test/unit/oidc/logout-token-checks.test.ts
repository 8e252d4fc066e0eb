import {describe, expect, it} from 'vitest';
import * as logout from '../../../src/oidc/logout-token-checks.js';
import type {LogoutExpectations, SignedLogoutToken} from '../../../src/oidc/logout-token-checks.js';
import {InvalidTokenError} from '../../../src/oidc/access-token-checks.js';

const NOW = 1_900_000_000;
const expected: LogoutExpectations = {
  issuer: 'https://id.example',
  audience: ['hub-cli', 'hub-device'],
  clockSkewSeconds: 30,
  nowSeconds: NOW,
};

/** A logout token as §2.4 shows one, with these claims changed (undefined: left out) and this header. */
function token(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {typ: 'logout+jwt'}): SignedLogoutToken {
  const all: Record<string, unknown> = {
    iss: expected.issuer,
    aud: 'hub-cli',
    iat: NOW,
    exp: NOW + 120,
    jti: 'bWJq',
    sub: 'sub-alice',
    sid: '08a5019c-17e1-4977-8f42-65a12843ea02',
    events: {[logout.BACKCHANNEL_LOGOUT_EVENT]: {}},
    ...claims,
  };
  for (const [name, value] of Object.entries(all)) if (value === undefined) delete all[name];
  return {header: {alg: 'RS256', ...header}, claims: all};
}

const refusal = (check: (token: SignedLogoutToken, expected: LogoutExpectations) => void, bad: SignedLogoutToken) => {
  try {
    check(bad, expected);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenError);
    return (error as Error).message;
  }
  throw new Error('the check passed');
};

describe('the checks of a back-channel logout token (OIDC Back-Channel Logout 1.0, §2.6)', () => {
  it('passes a token as the spec shows one, and says whom and which session it names', () => {
    expect(logout.checkedLogoutToken(token(), expected)).toEqual({
      issuer: expected.issuer,
      jti: 'bWJq',
      expiresAt: NOW + 120,
      subject: 'sub-alice',
      providerSession: '08a5019c-17e1-4977-8f42-65a12843ea02',
    });
    expect(logout.checkedLogoutToken(token({sid: undefined}), expected)).not.toHaveProperty('providerSession');
    expect(logout.checkedLogoutToken(token({sub: undefined}), expected)).not.toHaveProperty('subject');
  });

  it('takes typ logout+jwt (also as application/logout+jwt) or none, and nothing else: an ID token or access token is not one', () => {
    for (const typ of ['logout+jwt', 'application/logout+jwt', undefined])
      expect(() => logout.checkLogoutTyp(token({}, {typ}))).not.toThrow();
    expect(refusal(logout.checkLogoutTyp, token({}, {typ: 'JWT'}))).toBe(
      'the token is not a logout token (its typ header is "JWT", not logout+jwt)',
    );
    expect(refusal(logout.checkLogoutTyp, token({}, {typ: 'at+jwt'}))).toContain('not a logout token');
  });

  it('refuses another issuer, or none', () => {
    expect(refusal(logout.checkLogoutIssuer, token({iss: 'https://evil.example'}))).toBe(
      'the logout token is from another issuer than https://id.example',
    );
    expect(refusal(logout.checkLogoutIssuer, token({iss: undefined}))).toContain('another issuer');
  });

  it('wants one of our client ids in aud, as a text or in a list', () => {
    expect(() => logout.checkLogoutAudience(token({aud: ['other', 'hub-device']}), expected)).not.toThrow();
    expect(refusal(logout.checkLogoutAudience, token({aud: 'another-app'}))).toBe(
      "the logout token is not for this service's clients (its aud names none of hub-cli, hub-device)",
    );
    expect(refusal(logout.checkLogoutAudience, token({aud: undefined}))).toContain('aud names none');
    expect(refusal(logout.checkLogoutAudience, token({aud: [42]}))).toContain('aud names none');
  });

  it('wants an iat no later than now plus the clock skew', () => {
    expect(() => logout.checkLogoutIssuedAt(token({iat: NOW + 30}), expected)).not.toThrow();
    expect(refusal(logout.checkLogoutIssuedAt, token({iat: NOW + 31}))).toContain('issued in the future');
    expect(refusal(logout.checkLogoutIssuedAt, token({iat: undefined}))).toBe('the logout token has no iat');
    expect(refusal(logout.checkLogoutIssuedAt, token({iat: String(NOW)}))).toBe('the logout token has no iat');
  });

  it('wants an exp not passed, the clock skew allowed', () => {
    expect(() => logout.checkLogoutNotExpired(token({exp: NOW - 30}), expected)).not.toThrow();
    expect(refusal(logout.checkLogoutNotExpired, token({exp: NOW - 31}))).toBe('the logout token has expired');
    expect(refusal(logout.checkLogoutNotExpired, token({exp: undefined}))).toBe('the logout token has no exp');
  });

  it('wants a jti, to be accepted once', () => {
    for (const jti of [undefined, '', 7, 'x'.repeat(257)]) expect(refusal(logout.checkLogoutJti, token({jti}))).toContain('has no jti');
  });

  it('wants the back-channel logout event as a JSON object in events', () => {
    expect(() => logout.checkLogoutEvents(token({events: {[logout.BACKCHANNEL_LOGOUT_EVENT]: {}, other: 1}}))).not.toThrow();
    for (const events of [
      undefined,
      {},
      [],
      {[logout.BACKCHANNEL_LOGOUT_EVENT]: true},
      {[logout.BACKCHANNEL_LOGOUT_EVENT]: []},
      {[logout.BACKCHANNEL_LOGOUT_EVENT]: null},
    ])
      expect(refusal(logout.checkLogoutEvents, token({events}))).toBe(
        `the logout token's events claim has no ${logout.BACKCHANNEL_LOGOUT_EVENT} member that is a JSON object`,
      );
  });

  it('wants a sub or a sid, each a text', () => {
    expect(() => logout.checkLogoutSubjectOrSession(token({sid: undefined}))).not.toThrow();
    expect(() => logout.checkLogoutSubjectOrSession(token({sub: undefined}))).not.toThrow();
    expect(refusal(logout.checkLogoutSubjectOrSession, token({sub: undefined, sid: undefined}))).toBe(
      'the logout token names neither a subject (sub) nor a session (sid)',
    );
    expect(refusal(logout.checkLogoutSubjectOrSession, token({sub: 12}))).toBe("the logout token's sub is not a text");
    expect(refusal(logout.checkLogoutSubjectOrSession, token({sid: ''}))).toBe("the logout token's sid is not a text");
  });

  it('refuses a token with a nonce: an ID token signed by the same key does not log anyone out', () => {
    expect(refusal(logout.checkLogoutHasNoNonce, token({nonce: 'n-0S6_WzA2Mj'}))).toBe(
      'the token has a nonce: it is an ID token, not a logout token',
    );
  });

  it('runs the checks in a fixed order: the first thing wrong is the one said', () => {
    expect(() => logout.checkedLogoutToken(token({iss: 'https://evil.example', nonce: 'n'}, {typ: 'JWT'}), expected)).toThrow('typ header');
    expect(() => logout.checkedLogoutToken(token({iss: 'https://evil.example', aud: 'x'}), expected)).toThrow('another issuer');
    expect(() => logout.checkedLogoutToken(token({events: undefined, nonce: 'n'}), expected)).toThrow('events claim');
  });
});
