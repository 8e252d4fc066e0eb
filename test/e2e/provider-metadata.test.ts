import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runHub, transcript} from '@hub/test-stack/hub-cli';
import {FORM_CONTENT_TYPE, READ_WRITE_CLIENT, startIdentityProvider, USERS, type IdentityProvider} from '@hub/test-stack/identity-provider';
import {secretServiceCount, secretServiceSession} from '@hub/test-stack/keyring';
import {startLoginStack, type LoginStack} from '@hub/test-stack/login-stack';
import {e2eEnabled} from '@hub/test-stack/prerequisites';

const [alice] = USERS as [(typeof USERS)[number]];
const REGISTRY = 'registry.test:5000';

/**
 * Providers that describe themselves differently from oidc-provider's defaults, all legal: an
 * issuer with a path whose revocation and device endpoints are only in its RFC 8414 metadata, one
 * without revocation, one that lists no revocation endpoint at all and compares Content-Type
 * exactly (as glewlwyd does), and a client allowed only the scopes `openid read write`.
 */
describe.runIf(e2eEnabled())('hub with providers whose metadata, scopes and form handling differ', () => {
  let stack: LoginStack;
  /** Issuer with a path; revocation and device endpoints only in /.well-known/oauth-authorization-server/realms/dev. */
  let idp: IdentityProvider;
  let withoutRevocation: IdentityProvider;
  /** Refuses `;charset=UTF-8` forms; its revocation endpoint is served but listed nowhere. */
  let strict: IdentityProvider;
  let env: NodeJS.ProcessEnv;
  const seenTokens = new Set<string>();

  beforeAll(async () => {
    stack = await startLoginStack({path: '/realms/dev', onlyInOAuthMetadata: ['revocation_endpoint', 'device_authorization_endpoint']});
    ({idp, env} = stack);
    withoutRevocation = await startIdentityProvider({revocation: false});
    strict = await startIdentityProvider({strictFormContentType: true, unlisted: ['revocation_endpoint']});
  });

  afterAll(async () => {
    await strict?.stop();
    await withoutRevocation?.stop();
    await stack?.stop();
  });

  async function browserLogin(provider: IdentityProvider, extra: string[] = []) {
    const login = runHub(
      [
        'login',
        REGISTRY,
        '--client-id',
        provider.clientId,
        '--docker-config',
        'none',
        ...(extra.includes('--issuer') ? [] : ['--issuer', provider.issuer]),
        ...extra,
      ],
      env,
    );
    // A login that fails before it opens the browser shows its own words, not a browser timeout.
    const opened = await Promise.race([stack.browser.nextUrl(), login]);
    if (typeof opened !== 'string') return {result: opened, session: undefined};
    await stack.browser.signIn(opened, alice);
    const result = await login;
    const session = await secretServiceSession(stack.keyring.env, REGISTRY);
    if (session) seenTokens.add(session.accessToken as string).add(session.refreshToken as string);
    return {result, session};
  }

  /** A refresh at the provider, sent as RFC 6749 says (bare form type): what a thief holding the refresh token would do. */
  async function refreshAtProvider(provider: IdentityProvider, refreshToken: string): Promise<{status: number; error?: string}> {
    const metadata = (await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json()) as {token_endpoint: string};
    const response = await fetch(metadata.token_endpoint, {
      method: 'POST',
      headers: {'content-type': FORM_CONTENT_TYPE},
      body: new URLSearchParams({grant_type: 'refresh_token', refresh_token: refreshToken, client_id: provider.clientId}).toString(),
    });
    const body = (await response.json()) as {error?: string};
    return {status: response.status, error: body.error};
  }

  async function savedSettings(): Promise<{registries: Record<string, Record<string, unknown>>}> {
    return JSON.parse(await readFile(join(stack.sandbox.configDir, 'config.json'), 'utf8'));
  }

  it('accepts an issuer typed with a trailing slash the provider does not spell, and saves the exact one', async () => {
    const {result} = await browserLogin(idp, ['--issuer', `${idp.issuer}/`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Using the issuer as ${idp.issuer}/ spells it: ${idp.issuer}`);
    expect((await savedSettings()).registries[REGISTRY]).toMatchObject({issuer: idp.issuer});
  });

  it('logout revokes through the revocation endpoint only the RFC 8414 metadata names (§3 path insertion), and says so', async () => {
    const live = await secretServiceSession(stack.keyring.env, REGISTRY);
    expect(live?.refreshToken).toEqual(expect.any(String));

    const out = await runHub(['logout', REGISTRY], env);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toContain(`Logged out of ${REGISTRY} (alice); the provider revoked the session.`);
    expect(await secretServiceCount(stack.keyring.env)).toBe(0);
    expect(await refreshAtProvider(idp, live!.refreshToken as string)).toMatchObject({status: 400, error: 'invalid_grant'});
  });

  it('the device flow uses the device endpoint only the RFC 8414 metadata names', async () => {
    const {url, done} = deviceLogin(idp);
    expect(await stack.browser.nextUrl()).toMatch(/\/device$/);
    expect(await stack.browser.approveDevice(await url, alice)).toContain('Sign-in Success');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Logged in to ${REGISTRY} as alice`);
    expect((await runHub(['logout', REGISTRY], env)).stderr).toContain('the provider revoked the session');
  });

  it('logout with a provider that offers no revocation: says plainly the session lives on there, and still empties the keychain', async () => {
    const {result, session} = await browserLogin(withoutRevocation);
    expect(result.code, result.stderr).toBe(0);

    const out = await runHub(['logout', REGISTRY], env);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).not.toContain('revoked the session');
    expect(out.stderr).toContain(`${withoutRevocation.issuer} offers no token revocation`);
    expect(out.stderr).toContain('its refresh token stays valid until it expires');
    expect(await secretServiceCount(stack.keyring.env)).toBe(0);
    // What hub said is true: the refresh token still works at the provider.
    expect((await refreshAtProvider(withoutRevocation, session!.refreshToken as string)).status).toBe(200);
  });

  /** Runs `hub login --device` until it prints the complete verification URL. */
  function deviceLogin(provider: IdentityProvider, extra: string[] = []) {
    let found!: (url: string) => void;
    const url = new Promise<string>((resolve) => (found = resolve));
    const done = runHub(
      ['login', REGISTRY, '--device', '--issuer', provider.issuer, '--client-id', provider.clientId, '--docker-config', 'none', ...extra],
      env,
      {
        onStderr: (text) => {
          const match = /or open (\S+)/.exec(text);
          if (match) found(match[1]!);
        },
      },
    );
    return {url, done};
  }

  it('the device flow and token polling send the bare form Content-Type a strict server demands (no ;charset=UTF-8)', async () => {
    const {url, done} = deviceLogin(strict);
    const outcome = await Promise.race([url.then(() => 'code shown'), done.then((result) => result)]);
    expect(outcome, typeof outcome === 'string' ? '' : outcome.stderr).toBe('code shown');
    await stack.browser.nextUrl(); // the verification page hub opened here
    await stack.browser.approveDevice(await url, alice);
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Logged in to ${REGISTRY} as alice`);
  });

  it("logout revokes at an endpoint named in hub's settings when the provider lists none (and the revocation form is bare too)", async () => {
    const session = await secretServiceSession(stack.keyring.env, REGISTRY);
    seenTokens.add(session!.accessToken as string).add(session!.refreshToken as string);
    const file = join(stack.sandbox.configDir, 'config.json');
    const settings = await savedSettings();
    settings.registries[REGISTRY]!.endpoints = {revocation_endpoint: `${strict.issuer}/token/revocation`};
    await writeFile(file, JSON.stringify(settings));

    const out = await runHub(['logout', REGISTRY], env);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toContain('the provider revoked the session');
    expect(await refreshAtProvider(strict, session!.refreshToken as string)).toMatchObject({status: 400, error: 'invalid_grant'});
  });

  it('refuses a plain-http endpoint in the settings, naming it', async () => {
    const {result} = await browserLogin(strict);
    expect(result.code, result.stderr).toBe(0);
    const settings = await savedSettings();
    settings.registries[REGISTRY]!.endpoints = {revocation_endpoint: 'http://revoke.example.com/revoke'};
    await writeFile(join(stack.sandbox.configDir, 'config.json'), JSON.stringify(settings));
    const out = await runHub(['logout', REGISTRY], env);
    expect(out.stderr).toContain("http://revoke.example.com/revoke (revocation_endpoint in hub's settings)");
    expect(await secretServiceCount(stack.keyring.env)).toBe(0);
  });

  it('invalid_scope names the scopes hub asked for and how to change them, in the browser and the device flow', async () => {
    const client = ['--issuer', withoutRevocation.issuer, '--client-id', READ_WRITE_CLIENT.id, '--docker-config', 'none'];
    const login = runHub(['login', REGISTRY, ...client], env);
    // The provider refuses before any sign-in page: the browser lands on hub's loopback at once.
    await stack.browser.visit(await stack.browser.nextUrl());
    const refused = await login;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refused the scopes hub asked for (openid profile offline_access)');
    expect(refused.stderr).toContain('invalid_scope');
    expect(refused.stderr).toContain('hub login --scope');
    expect(refused.stderr).toContain(`the client ${READ_WRITE_CLIENT.id}`);

    const device = await runHub(['login', REGISTRY, '--device', ...client], env);
    expect(device.code).toBe(1);
    expect(device.stderr).toContain('refused the scopes hub asked for (openid profile offline_access)');
    expect(device.stderr).toContain('hub login --scope');
    expect(await secretServiceCount(stack.keyring.env)).toBe(0);

    // The way out the message names works.
    const retry = runHub(['login', REGISTRY, ...client, '--scope', READ_WRITE_CLIENT.scope], env);
    await stack.browser.signIn(await stack.browser.nextUrl(), alice);
    const result = await retry;
    expect(result.code, result.stderr).toBe(0);
    expect((await savedSettings()).registries[REGISTRY]).toMatchObject({scopes: READ_WRITE_CLIENT.scope});
  });

  it('never prints a token', () => {
    expect(seenTokens.size).toBeGreaterThan(0);
    for (const {stdout, stderr} of transcript) for (const token of seenTokens) expect(`${stdout}${stderr}`).not.toContain(token);
  });
});
