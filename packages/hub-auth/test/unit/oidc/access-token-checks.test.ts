import {describe, expect, it} from 'vitest';
import {
  checkActive,
  checkAudience,
  checkedIntrospection,
  checkedJwt,
  checkedUserInfo,
  checkIntrospectedIsAccessToken,
  checkIssuer,
  checkJwtSpelling,
  checkJwtTokenUse,
  checkLength,
  checkNotExpired,
  checkOpaqueShape,
  checkTypHeader,
  InvalidTokenError,
  isJwtShaped,
  type IntrospectionExpectations,
  type SignedJwt,
} from '../../../src/oidc/access-token-checks.js';

const NOW = 1_800_000_000;
const EXPECTED: IntrospectionExpectations = {
  issuer: 'https://id.example',
  audience: ['registry.example'],
  clockSkewSeconds: 30,
  nowSeconds: NOW,
  requireTokenType: false,
  allowMissingAudience: false,
  acceptedClientIds: [],
};
/** An answer every introspection check passes. */
const ACTIVE = {active: true, exp: NOW + 60, iss: 'https://id.example', aud: 'registry.example', sub: 'u-1', token_type: 'Bearer'};
const JWT: SignedJwt = {header: {alg: 'ES256', typ: 'at+jwt'}, payload: {sub: 'u-1', exp: NOW + 60, iss: 'https://id.example'}};

/** `check` refuses with InvalidTokenError, saying `message`. */
function expectRefused(check: () => unknown, message: string): void {
  expect(check).toThrow(InvalidTokenError);
  expect(check).toThrow(message);
}

describe('the access-token checks, one by one', () => {
  it('refuses a token longer than 16 KiB before anything else looks at it', () => {
    expect(() => checkLength('a'.repeat(16_384))).not.toThrow();
    expectRefused(() => checkLength('a'.repeat(16_385)), 'the token is too long');
  });

  it('tells a JWT (three base64url parts) from an opaque token', () => {
    expect(isJwtShaped('eyJh.eyJz.c2ln')).toBe(true);
    expect(isJwtShaped('eyJh.eyJz.')).toBe(true);
    expect(isJwtShaped('eyJh.eyJz')).toBe(false);
    expect(isJwtShaped('a.b.c.d')).toBe(false);
    // Padded, it is still a JWT (spelled wrong), not an opaque token to send to the provider.
    expect(isJwtShaped('eyJh.eyJz.c2ln==')).toBe(true);
  });

  it('takes a JWT in its one spelling only: unpadded base64url that re-encodes to itself', () => {
    expect(() => checkJwtSpelling('eyJh.eyJz.c2k')).not.toThrow();
    // 'c2l' decodes to the same bytes as 'c2k' ("si"): only the unused bits of its last character differ.
    for (const token of ['eyJh.eyJz.c2k=', 'eyJh.eyJz.c2l', 'eyJh.eyJz.']) {
      expectRefused(
        () => checkJwtSpelling(token),
        'the token is not a valid JWT: its parts are not in unpadded base64url, the one spelling RFC 7515 allows',
      );
    }
  });

  it('asks the provider only about opaque tokens of the token68 alphabet and 16–4096 characters', () => {
    expect(() => checkOpaqueShape('a'.repeat(16))).not.toThrow();
    expect(() => checkOpaqueShape(`${'A-._~+/9'.repeat(4)}==`)).not.toThrow();
    for (const token of ['a'.repeat(15), 'a'.repeat(4097), `${'a'.repeat(20)} b`, `${'a'.repeat(20)}%`]) {
      expectRefused(() => checkOpaqueShape(token), 'not a JWT, nor of the length and characters of an opaque token');
    }
  });

  it('takes a JWT whose typ header is absent, JWT or at+jwt, and no other', () => {
    for (const typ of [undefined, 'JWT', 'at+jwt', 'application/at+JWT']) {
      expect(() => checkTypHeader({...JWT, header: {alg: 'ES256', typ}})).not.toThrow();
    }
    expectRefused(() => checkTypHeader({...JWT, header: {alg: 'ES256', typ: 'id+jwt'}}), 'its typ header is "id+jwt"');
  });

  it('takes a JWT whose typ and token_use claims, where present, say bearer or access', () => {
    for (const payload of [{}, {typ: 'Bearer'}, {token_use: 'access'}]) {
      expect(() => checkJwtTokenUse({...JWT, payload: {...JWT.payload, ...payload}})).not.toThrow();
    }
    expectRefused(() => checkJwtTokenUse({...JWT, payload: {...JWT.payload, typ: 'Refresh'}}), 'it says it is "Refresh"');
    expectRefused(() => checkJwtTokenUse({...JWT, payload: {...JWT.payload, token_use: 'id'}}), 'it says it is "id"');
    expectRefused(() => checkJwtTokenUse({...JWT, payload: {...JWT.payload, token_use: 7}}), 'it says it is 7');
  });

  it('refuses an introspection answer that does not say active: true', () => {
    expect(() => checkActive(ACTIVE)).not.toThrow();
    for (const active of [false, 'true', undefined]) {
      expectRefused(() => checkActive({...ACTIVE, active}), 'the identity provider says the token is not active');
    }
  });

  it('refuses an answer with no numeric exp, or one past it by more than the clock skew', () => {
    expect(() => checkNotExpired({...ACTIVE, exp: NOW - 30}, EXPECTED)).not.toThrow();
    for (const exp of [NOW - 31, undefined, String(NOW + 60)]) {
      expectRefused(() => checkNotExpired({...ACTIVE, exp}, EXPECTED), 'the token has expired');
    }
  });

  it('refuses an answer naming another issuer; one naming none passes', () => {
    expect(() => checkIssuer({...ACTIVE, iss: undefined}, EXPECTED)).not.toThrow();
    expectRefused(() => checkIssuer({...ACTIVE, iss: 'https://other.example'}, EXPECTED), 'the token is from another issuer');
  });

  it('refuses an answer that calls the token anything but an access token, and, where required, one that calls it nothing', () => {
    for (const marker of [{token_type: 'access_token'}, {typ: 'Bearer'}, {token_use: 'urn:ietf:params:oauth:token-type:access_token'}]) {
      expect(() => checkIntrospectedIsAccessToken({active: true, ...marker}, {...EXPECTED, requireTokenType: true})).not.toThrow();
    }
    expectRefused(() => checkIntrospectedIsAccessToken({token_type: 'refresh_token'}, EXPECTED), 'calls it "refresh_token"');
    expectRefused(() => checkIntrospectedIsAccessToken({token_type: 'DPoP'}, EXPECTED), 'calls it "DPoP"');
    expect(() => checkIntrospectedIsAccessToken({}, EXPECTED)).not.toThrow();
    expectRefused(() => checkIntrospectedIsAccessToken({}, {...EXPECTED, requireTokenType: true}), 'a refresh token is not accepted');
  });

  it('takes an answer for one of our audiences, or with none for an accepted client where that is allowed', () => {
    expect(() => checkAudience({...ACTIVE, aud: ['other', 'registry.example']}, EXPECTED)).not.toThrow();
    expectRefused(() => checkAudience({...ACTIVE, aud: 'other'}, EXPECTED), 'the token was issued for another audience');
    const noAudience = {...ACTIVE, aud: undefined, client_id: 'hub'};
    expectRefused(() => checkAudience(noAudience, EXPECTED), 'the identity provider names no audience for the token');
    expectRefused(
      () => checkAudience(noAudience, {...EXPECTED, acceptedClientIds: ['hub']}),
      'the identity provider names no audience for the token',
    );
    const allowed = {...EXPECTED, allowMissingAudience: true, acceptedClientIds: ['hub']};
    expect(() => checkAudience(noAudience, allowed)).not.toThrow();
    expectRefused(() => checkAudience({...noAudience, client_id: 'other'}, allowed), 'names no audience');
    // An audience that is there is what counts: an accepted client does not make up for a foreign one.
    expectRefused(() => checkAudience({...ACTIVE, aud: 'other', client_id: 'hub'}, allowed), 'issued for another audience');
  });

  it('reads a UserInfo answer only with a subject, and trusts it until the time it is given', () => {
    expect(checkedUserInfo({sub: 'u-1', name: 'Alice'}, NOW + 30)).toEqual({
      subject: 'u-1',
      claims: {sub: 'u-1', name: 'Alice'},
      expiresAt: NOW + 30,
    });
    for (const sub of [undefined, '', 7]) {
      expectRefused(() => checkedUserInfo({sub}, NOW + 30), 'the identity provider names no subject for the token (UserInfo has no sub)');
    }
  });
});

describe('the access-token checks, in their order', () => {
  it('gives the claims of a JWT that passes, with its subject and expiry', () => {
    expect(checkedJwt(JWT)).toEqual({subject: 'u-1', claims: JWT.payload, expiresAt: NOW + 60});
  });

  it('checks a JWT’s typ header before its claims', () => {
    expectRefused(() => checkedJwt({header: {alg: 'ES256', typ: 'id+jwt'}, payload: {...JWT.payload, token_use: 'id'}}), 'typ header');
  });

  it('gives the claims of an introspection answer that passes; no sub is legal', () => {
    expect(checkedIntrospection(ACTIVE, EXPECTED)).toEqual({subject: 'u-1', claims: ACTIVE, expiresAt: NOW + 60});
    expect(checkedIntrospection({...ACTIVE, sub: ''}, EXPECTED).subject).toBeUndefined();
  });

  it('checks an answer for active, expiry, issuer, token type and audience, in that order', () => {
    const failing = {active: false, exp: NOW - 100, iss: 'https://other.example', token_type: 'refresh_token', aud: 'other'};
    const messages = [
      'the identity provider says the token is not active',
      'the token has expired',
      'the token is from another issuer',
      'the identity provider calls it "refresh_token"',
      'the token was issued for another audience',
    ];
    // Mend one failing field at a time: each time the next check in the order is the one that refuses.
    const mends = [{active: true}, {exp: NOW + 60}, {iss: EXPECTED.issuer}, {token_type: 'Bearer'}, {aud: 'registry.example'}];
    let body: Record<string, unknown> = failing;
    messages.forEach((message, index) => {
      expectRefused(() => checkedIntrospection(body, EXPECTED), message);
      body = {...body, ...mends[index]};
    });
    expect(() => checkedIntrospection(body, EXPECTED)).not.toThrow();
  });
});
