import {INTROSPECTION_CLIENT, startIdentityProvider, USERS} from '@hub/test-stack/identity-provider';
import type {ProviderUnderTest, StartProvider} from './provider.js';

const [alice, bob] = USERS as [(typeof USERS)[number], (typeof USERS)[number]];

/**
 * node-oidc-provider as test/e2e/support/identity-provider.ts configures it: JWT access tokens
 * for the registry's resource, introspection for opaque ones, the device flow on hub's client,
 * revocation for public clients, and its own login page.
 */
export const startOidcProvider: StartProvider = async () => {
  const idp = await startIdentityProvider();
  return {
    name: 'oidc-provider',
    issuer: idp.issuer,
    clientId: idp.clientId,
    deviceClientId: idp.clientId,
    users: {alice, bob},
    accessTokens: 'jwt',
    revokesPublicClientTokens: true,
    hubAuthOidc: () => ({
      issuer: idp.issuer,
      introspection: {clientId: INTROSPECTION_CLIENT.id, clientSecret: {env: 'HUB_AUTH_INTROSPECTION_SECRET'}},
    }),
    hubAuthEnv: {HUB_AUTH_INTROSPECTION_SECRET: INTROSPECTION_CLIENT.secret},
    setAccessTokenTtl: async (seconds) => idp.behave({accessTokenTtl: seconds}),
    async signIn(page, user) {
      await page.getByLabel('Username').fill(user.username);
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', {name: 'Sign in'}).click();
    },
    async approveDevice(page, verificationUri, userCode, user) {
      await page.goto(`${verificationUri}?user_code=${encodeURIComponent(userCode)}`);
      await page.getByRole('button', {name: 'Continue'}).click();
      await this.signIn(page, user);
      await page.waitForURL((url) => !url.pathname.startsWith('/interaction/'));
      await page.getByText(/Sign-in Success/i).waitFor();
    },
    refreshTokenWorks: async (refreshToken, clientId) =>
      (
        await fetch(`${idp.issuer}/token`, {
          method: 'POST',
          body: new URLSearchParams({grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId}),
        })
      ).ok,
    stop: () => idp.stop(),
  } satisfies ProviderUnderTest;
};
