import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {identityTokenFor, type IdentityTokenDeps} from '../../../src/session/identity-token.js';
import {MemoryStore} from '../../../src/store/memory.js';
import type {Session, TokenStore} from '../../../src/store/session.js';

const alice: Session = {
  registry: 'registry.example.com',
  issuer: 'https://idp',
  clientId: 'hub',
  account: 'alice',
  subject: 'sub-alice',
  accessToken: 'at-1',
};

describe('docker’s identity token in the session', () => {
  let lockDir: string;
  let now: number;
  let asked: string[];
  let presented: Array<string | undefined>;
  let store: MemoryStore;
  let deps: IdentityTokenDeps;

  beforeEach(async () => {
    lockDir = await mkdtemp(join(tmpdir(), 'hub-identity-'));
    now = 1_000_000;
    asked = [];
    presented = [];
    store = new MemoryStore();
    deps = {
      store,
      lockDir,
      nowSeconds: () => now,
      requestIdentityToken: async (accessToken, current) => {
        asked.push(accessToken);
        presented.push(current);
        return {token: `identity-${asked.length}`, issuedAt: now, expiresAt: now + 8 * 3600};
      },
    };
  });
  afterEach(() => rm(lockDir, {recursive: true, force: true}));

  it('asks once, keeps it in the session, and asks again once half its lifetime has passed', async () => {
    await store.write(alice);
    expect(await identityTokenFor(alice, deps)).toBe('identity-1');
    expect(asked).toEqual(['at-1']);
    const kept = (await store.read(alice.registry, alice.account))!;
    expect(kept.identityToken).toEqual({token: 'identity-1', issuedAt: now, expiresAt: now + 8 * 3600});
    now += 4 * 3600 - 1;
    expect(await identityTokenFor(kept, deps)).toBe('identity-1');
    now += 2;
    expect(await identityTokenFor(kept, deps)).toBe('identity-2');
    expect((await store.read(alice.registry, alice.account))!.identityToken?.token).toBe('identity-2');
  });

  it('never writes it into a session that is no longer this person’s (a login as another person under the same name meanwhile)', async () => {
    await store.write({...alice, subject: 'sub-alice-2'});
    expect(await identityTokenFor(alice, deps)).toBe('identity-1');
    expect((await store.read(alice.registry, alice.account))!.identityToken).toBeUndefined();
  });

  it('with the insecure file store, there is none: nothing good for hours goes into a plain file', async () => {
    const fileStore: TokenStore = {
      ...store,
      kind: 'insecure-file',
      read: (r, a) => store.read(r, a),
      write: async () => expect.fail('written to a plain file'),
      probe: async () => {},
      remove: (r, a) => store.remove(r, a),
    };
    expect(await identityTokenFor(alice, {...deps, store: fileStore})).toBeUndefined();
    expect(asked).toEqual([]);
  });

  it('answers undefined when the token service offers none, so the access token serves as before', async () => {
    await store.write(alice);
    expect(await identityTokenFor(alice, {...deps, requestIdentityToken: async () => undefined})).toBeUndefined();
    expect((await store.read(alice.registry, alice.account))!.identityToken).toBeUndefined();
  });

  it('asks again once half of hub-auth’s re-check window (chk) has passed, continuing the session with the token it holds', async () => {
    // hub-auth's tokens are JWTs whose `chk` is refreshTokens.revalidateSeconds; hub reads it, never checks it.
    const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
    const held = {token: jwt({iat: now, exp: now + 8 * 3600, chk: 3600}), issuedAt: now, expiresAt: now + 8 * 3600};
    await store.write({...alice, identityToken: held});
    const session = (await store.read(alice.registry, alice.account))!;
    now += 1800;
    expect(await identityTokenFor(session, deps)).toBe(held.token);
    expect(asked).toEqual([]);
    now += 1;
    expect(await identityTokenFor(session, deps)).toBe('identity-1');
    expect(presented).toEqual([held.token]);
    // A token without the claim (no sessions at its hub-auth) is renewed at half its lifetime, as before.
    expect(await identityTokenFor((await store.read(alice.registry, alice.account))!, deps)).toBe('identity-1');
  });
});
