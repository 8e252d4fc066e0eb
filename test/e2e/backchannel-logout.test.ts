import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {exportJWK, generateKeyPair, SignJWT} from 'jose';
import type {Page} from 'playwright-core';
import {submitCredentials} from '@hub/test-stack/browser';
import {join} from 'node:path';
import {BACKCHANNEL_LOGOUT_PATH} from '@hub/protocol/hub-auth-endpoints';
import {hubAuthLogLines, SERVICE, startHubAuth, type HubAuth} from '@hub/test-stack/hub-auth';
import {startPostgres} from '@hub/test-stack/postgres';
import {FORM_CONTENT_TYPE, subjectOf, USERS} from '@hub/test-stack/identity-provider';
import {runHub} from '@hub/test-stack/hub-cli';
import {waitFor} from '@hub/test-stack/ports';
import {E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from '@hub/test-stack/registry-stack';

/**
 * OpenID Connect Back-Channel Logout on the real stack: oidc-provider, registered with hub-auth's
 * /backchannel-logout as the hub client's backchannel_logout_uri, sends a logout token when alice
 * signs out in her browser (its end-session endpoint) and when the stack disables her (its
 * Client#backchannelLogout); hub-auth ends her sessions. An attacker who POSTs a forged or a
 * replayed logout token ends nothing.
 */

const [alice] = USERS as [(typeof USERS)[number]];
const WITHIN_MS = 5_000;

describe.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS]))('back-channel logout from oidc-provider', () => {
  let stack: RegistryStack;
  beforeAll(async () => {
    stack = await startRegistryStack();
  });
  afterAll(() => stack?.stop());

  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    headers: {'content-type': FORM_CONTENT_TYPE},
    body: new URLSearchParams(fields),
  });

  /** docker's identity token for alice's provider access token: the password grant with access_type=offline. */
  async function identityTokenFor(accessToken: string): Promise<string> {
    const answer = await fetch(
      `${stack.hubAuth.url}/token`,
      form({
        grant_type: 'password',
        username: alice.username,
        password: accessToken,
        service: SERVICE,
        client_id: 'docker',
        access_type: 'offline',
      }),
    );
    expect(answer.status).toBe(200);
    return ((await answer.json()) as {refresh_token: string}).refresh_token;
  }

  /** What hub-auth answers docker trading the identity token for a registry token. */
  const refreshStatus = async (identityToken: string) =>
    (
      await fetch(
        `${stack.hubAuth.url}/token`,
        form({
          grant_type: 'refresh_token',
          refresh_token: identityToken,
          service: SERVICE,
          client_id: 'docker',
          scope: 'repository:alice/app:pull',
        }),
      )
    ).status;

  /**
   * alice signs in with `hub login` in the browser and gets an identity token; `then` runs on that
   * browser page, where she is still signed in at the provider.
   */
  async function signedIn<T>(then: (identityToken: string, page: Page) => Promise<T>): Promise<T> {
    const registry = stack.registry.host;
    const login = runHub(
      ['login', registry, '--issuer', stack.idp.issuer, '--client-id', stack.idp.clientId, '--docker-config', 'none'],
      stack.env,
    );
    const url = await stack.browser.nextUrl();
    return stack.browser.withPage(async (page) => {
      await page.goto(url);
      await submitCredentials(page, alice);
      await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback/, {timeout: 30_000});
      expect((await login).code).toBe(0);
      const token = await runHub(['token', registry], stack.env);
      expect(token.code).toBe(0);
      const identityToken = await identityTokenFor(token.stdout.trim());
      expect(await refreshStatus(identityToken)).toBe(200);
      return then(identityToken, page);
    });
  }

  /** alice signs out at the provider in her browser: its end-session page, "Yes, sign me out". */
  async function signOutInBrowser(page: Page): Promise<void> {
    await page.goto(`${stack.idp.issuer}/session/end`);
    await page.getByRole('button', {name: 'Yes, sign me out'}).click();
    await page.waitForURL(/\/session\/end\/success/, {timeout: 30_000});
  }

  const accepted = () => hubAuthLogLines(stack.hubAuth, 'back-channel logout accepted');

  /** Resolves once hub-auth has logged one more accepted logout than `before`, for alice; that line. */
  async function acceptedLogout(before: number) {
    await waitFor('hub-auth logging the back-channel logout', async () => accepted().length > before, WITHIN_MS);
    const line = accepted().at(-1)!;
    expect(line).toMatchObject({event: 'backchannel logout', outcome: 'accepted', subject: subjectOf(alice.username)});
    return line;
  }

  /** Resolves once the identity token is refused, within the bound SECURITY.md promises. */
  const refusedWithin = (identityToken: string) =>
    waitFor('the identity token refused after the logout', async () => (await refreshStatus(identityToken)) === 401, WITHIN_MS);

  it('end-session in the browser: the provider sends the logout token with her sub and sid, and hub-auth accepts it', async () => {
    const before = accepted().length;
    await signedIn((_identityToken, page) => signOutInBrowser(page));
    const line = await acceptedLogout(before);
    expect(line.providerSession).toEqual(expect.any(String));
    expect(stack.idp.backchannelLogouts.at(-1)).toEqual({subject: subjectOf(alice.username), providerSession: line.providerSession});
  });

  it('end-session in the browser: her identity token is refused within 5 s', async () => {
    const before = accepted().length;
    const identityToken = await signedIn(async (token, page) => {
      await signOutInBrowser(page);
      return token;
    });
    expect((await acceptedLogout(before)).ended).toBeGreaterThanOrEqual(1);
    await refusedWithin(identityToken);
  });

  it('the stack disables her (Client#backchannelLogout with her sub): hub-auth accepts it, the provider got 200', async () => {
    await signedIn(async () => undefined);
    const before = accepted().length;
    await stack.idp.disablePerson(alice.username);
    const line = await acceptedLogout(before);
    expect(line.providerSession).toBeNull();
    expect(stack.idp.backchannelLogouts.at(-1)).toEqual({subject: subjectOf(alice.username), providerSession: undefined});
  });

  it('the stack disables her: every identity token of hers is refused within 5 s', async () => {
    const identityToken = await signedIn(async (token) => token);
    const before = accepted().length;
    await stack.idp.disablePerson(alice.username);
    expect((await acceptedLogout(before)).ended).toBeGreaterThanOrEqual(1);
    await refusedWithin(identityToken);
  });

  const logoutClaims = () => ({
    iss: stack.idp.issuer,
    aud: stack.idp.clientId,
    sub: subjectOf(alice.username),
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 120,
    events: {'http://schemas.openid.net/event/backchannel-logout': {}},
  });
  const postLogout = (token: string, to: HubAuth = stack.hubAuth) =>
    fetch(`${to.url}${BACKCHANNEL_LOGOUT_PATH}`, form({logout_token: token}));

  it('an attacker POSTing a forged logout token (their key under the provider key id, or their key in the header) ends nothing', async () => {
    const attacker = await generateKeyPair('RS256', {extractable: true});
    const forged = [
      await new SignJWT({...logoutClaims(), jti: 'forged-1'})
        .setProtectedHeader({alg: 'RS256', kid: 'test-provider-key', typ: 'logout+jwt'})
        .sign(attacker.privateKey),
      // hub-auth takes keys from the provider's jwks_uri only, never from the token.
      await new SignJWT({...logoutClaims(), jti: 'forged-2'})
        .setProtectedHeader({alg: 'RS256', typ: 'logout+jwt', jwk: await exportJWK(attacker.publicKey)})
        .sign(attacker.privateKey),
    ];
    const refused = () => hubAuthLogLines(stack.hubAuth, 'back-channel logout refused');
    const refusedBefore = refused().length;
    await signedIn(async (identityToken) => {
      const before = accepted().length;
      for (const token of forged) {
        const answer = await postLogout(token);
        expect(answer.status).toBe(400);
        expect(((await answer.json()) as {error: string}).error).toBe('invalid_request');
      }
      expect(accepted()).toHaveLength(before);
      expect(await refreshStatus(identityToken)).toBe(200);
    });
    // hub-auth writes its log in batches, flushed within a second.
    await waitFor("the refusals in hub-auth's log", async () => refused().length === refusedBefore + 2);
    for (const line of refused().slice(-2))
      expect(line.reason).toMatch(/^the token (signature is not valid|is signed by a key the identity provider does not publish)$/);
    for (const token of forged) expect(stack.hubAuth.daemon.output()).not.toContain(token);
  });

  it('an attacker replaying a logout token the provider sent (seen in a log, a proxy) ends nothing the second time', async () => {
    const sent = await stack.idp.signWithProviderKey({...logoutClaims(), jti: `seen-${Date.now()}`}, 'logout+jwt');
    const before = accepted().length;
    expect((await postLogout(sent)).status).toBe(200);
    await acceptedLogout(before);
    const identityToken = await signedIn(async (token) => token);
    const replayed = await postLogout(sent);
    expect(replayed.status).toBe(400);
    expect(((await replayed.json()) as {error_description: string}).error_description).toBe(
      'the logout token was used before (its jti was seen already): it ends nothing again',
    );
    expect(accepted()).toHaveLength(before + 1);
    expect(await refreshStatus(identityToken)).toBe(200);
    expect(stack.hubAuth.daemon.output()).not.toContain(sent);
  });

  it('two instances on one PostgreSQL: a logout token accepted at one, replayed at the other, is refused there', async () => {
    const postgres = await startPostgres();
    const options = {
      dir: join(stack.sandbox.dir, 'scale'),
      oidcIssuer: stack.idp.issuer,
      registryHost: stack.registry.host,
      signing: stack.signing,
      store: {url: {env: 'HUB_AUTH_STORE_URL'}},
      env: {HUB_AUTH_STORE_URL: await postgres.database('backchannel')},
    };
    const [one, two] = [await startHubAuth(options), await startHubAuth(options)];
    try {
      const sent = await stack.idp.signWithProviderKey({...logoutClaims(), jti: `scaled-${Date.now()}`}, 'logout+jwt');
      expect((await postLogout(sent, one)).status).toBe(200);
      const replayed = await postLogout(sent, two);
      expect(replayed.status).toBe(400);
      expect(((await replayed.json()) as {error_description: string}).error_description).toContain('used before');
      // hub-auth writes its log in batches, flushed within a second: each instance's in its own time.
      await waitFor(
        "the refusal in the second instance's log",
        async () => hubAuthLogLines(two, 'back-channel logout refused').length === 1,
      );
      await waitFor(
        "the acceptance in the first instance's log",
        async () => hubAuthLogLines(one, 'back-channel logout accepted').length > 0,
      );
      expect(hubAuthLogLines(one, 'back-channel logout accepted')).toHaveLength(1);
      expect(hubAuthLogLines(two, 'back-channel logout accepted')).toHaveLength(0);
    } finally {
      await one.stop();
      await two.stop();
      await postgres.remove();
    }
  });
});
