import {rm} from 'node:fs/promises';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {LEMONLDAP_PROGRAMS, startLemonLdapNgProvider} from './providers/lemonldap-ng.js';
import type {ProviderUnderTest} from './providers/provider.js';
import {startBrowser, type TestBrowser} from '@hub/test-stack/browser';
import {runHub} from '@hub/test-stack/hub-cli';
import {secretServiceSession, startKeyring, type Keyring} from '@hub/test-stack/keyring';
import {assertPrograms, E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {createSandbox, type Sandbox} from '@hub/test-stack/sandbox';

const REGISTRY = 'registry.test:5000';
const PROGRAMS = [...E2E_PROGRAMS, ...LEMONLDAP_PROGRAMS];

/**
 * What only LemonLDAP::NG does, beyond the provider suite (test/e2e/providers.test.ts): it
 * answers a refresh token it no longer knows with `invalid_request` instead of RFC 6749 §5.2's
 * `invalid_grant`, e.g. once its session purge has removed an expired offline session.
 */
describe.runIf(e2eEnabled(PROGRAMS))('hub with LemonLDAP::NG', () => {
  let sandbox: Sandbox;
  let keyring: Keyring;
  let browser: TestBrowser;
  let provider: ProviderUnderTest;
  let env: NodeJS.ProcessEnv;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    assertPrograms(PROGRAMS);
    sandbox = await createSandbox('hub-e2e-llng');
    stops.push(() => sandbox.remove());
    keyring = await startKeyring(sandbox);
    stops.push(() => keyring.stop());
    browser = await startBrowser();
    stops.push(() => browser.stop());
    provider = await startLemonLdapNgProvider({dir: join(sandbox.dir, 'lemonldap-ng'), registryHost: REGISTRY});
    stops.push(() => provider.stop());
    env = {...keyring.env, ...browser.env};
  });

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  // README, Back-channel logout: Debian 12's 2.16 leaves it a TODO, so hub-auth's receiver is tested
  // with oidc-provider (backchannel-logout.test.ts). When this fails, the installed LemonLDAP::NG
  // sends it: set its relying party's Back Channel logout there and add it to that test.
  it('sends no back-channel logout in this version, and says so in its metadata', async () => {
    const metadata = (await (await fetch(`${provider.issuer}.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({backchannel_logout_supported: false, backchannel_logout_session_supported: false});
  });

  it('a refresh token the provider no longer knows ends the session, with the way back', async () => {
    await provider.setAccessTokenTtl(30); // inside hub's one-minute margin: the next use refreshes
    const login = runHub(
      ['login', REGISTRY, '--issuer', provider.issuer, '--client-id', provider.clientId, '--port', String(provider.redirectPort)],
      env,
    );
    await browser.signInWith(await browser.nextUrl(), (page) => provider.signIn(page, provider.users.alice));
    expect((await login).stderr).toContain(`Logged in to ${REGISTRY} as alice`);
    const session = (await secretServiceSession(keyring.env, REGISTRY)) as {refreshToken: string; clientId: string};

    // An expired offline session, as LemonLDAP::NG's hourly purge (purgeCentralCache) leaves it
    // once the portal's local session cache has let go of it too (after 10 minutes): gone.
    const llng = join(sandbox.dir, 'lemonldap-ng');
    await rm(join(llng, 'sessions', session.refreshToken));
    await rm(join(llng, 'cache', 'lemonldap-ng-sessions'), {recursive: true});
    expect(await provider.refreshTokenWorks(session.refreshToken, session.clientId)).toBe(false);

    const token = await runHub(['token', REGISTRY], env);
    expect(token.code).toBe(1);
    expect(token.stderr).toContain(
      `The session for ${REGISTRY} can no longer be used: the identity provider refused to refresh it (invalid_request)`,
    );
    expect(token.stderr).toContain(`hub login ${REGISTRY}`);
    expect(token.stderr).not.toContain('try again');
  });
});
