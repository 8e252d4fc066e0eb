import type {Page} from 'playwright-core';
import {registryAudience} from '@hub/protocol/registry-audience';
import {LEMONLDAP_PROGRAMS, startLemonLdapNg} from '@hub/test-stack/lemonldap-ng';
import {freePort} from '@hub/test-stack/ports';
import type {ProviderUnderTest, ProviderUser, StartProvider} from './provider.js';

export {LEMONLDAP_PROGRAMS};

/**
 * Debian's LemonLDAP::NG (2.16) as an OpenID provider, set up as its documentation says
 * (idpopenidconnect, "Relying Party" options of the manager); test/e2e/support/lemonldap-ng.ts
 * runs the portal. hub is one public relying party; what the operator sets on it, and why:
 * - Public client, PKCE required ("Public client", "Require PKCE"), ID token signed RS256:
 *   the default HS512 signs with the client secret, which a public client has none of.
 * - "Allow offline access" and "Bypass consent": hub asks for offline_access, which LemonLDAP::NG
 *   honours only without a consent prompt or with prompt=consent; offline refresh tokens outlive
 *   the portal's SSO session. LemonLDAP::NG 2.16 never rotates refresh tokens.
 * - "JWT access tokens" with "Release claims in access token" and the registry as an
 *   "Additional audience": LemonLDAP::NG ignores the audience/resource request parameters, so
 *   the audience is set on the relying party; hub-auth checks the JWT against the JWKS.
 * - Exported claims preferred_username/name/email from the user's uid/cn/mail.
 * LemonLDAP::NG 2.16 has no revocation endpoint and no device authorization grant, and matches
 * redirect URIs exactly (no RFC 8252 any-port rule): hub logs in with `--port`.
 */
const CLIENT_ID = 'hub';
const USERS = {alice: {username: 'alice', password: 'alice-password-1'}, bob: {username: 'bob', password: 'bob-password-1'}};

export const startLemonLdapNgProvider: StartProvider = async ({dir, registryHost}) => {
  const redirectPort = await freePort();
  const hubOptions = (accessTokenSeconds: number) => ({
    RequirePKCE: 1,
    IDTokenSignAlg: 'RS256',
    AllowOffline: 1,
    BypassConsent: 1,
    AccessTokenJWT: 1,
    AccessTokenClaims: 1,
    AdditionalAudiences: registryAudience(registryHost),
    AccessTokenExpiration: accessTokenSeconds,
  });
  const llng = await startLemonLdapNg(
    dir,
    {
      hub: {
        clientId: CLIENT_ID,
        redirectUris: [`http://127.0.0.1:${redirectPort}/callback`],
        options: hubOptions(600),
        claims: {preferred_username: 'uid', name: 'cn', email: 'mail'},
      },
    },
    Object.values(USERS).map((user) => ({...user, name: `${user.username} Example`, email: `${user.username}@example.test`})),
  );

  return {
    name: 'lemonldap-ng',
    issuer: llng.issuer,
    clientId: CLIENT_ID,
    redirectPort,
    users: USERS,
    accessTokens: 'jwt',
    rotatesRefreshTokens: false,
    revokesPublicClientTokens: false,
    hubAuthOidc: () => ({issuer: llng.issuer}),
    async setAccessTokenTtl(seconds) {
      await llng.reconfigure((configuration) => {
        const options = configuration.oidcRPMetaDataOptions as Record<string, Record<string, unknown>>;
        options.hub = {...options.hub, oidcRPMetaDataOptionsAccessTokenExpiration: seconds};
      });
    },
    signIn: (page, user) => signIn(page, user),
    async refreshTokenWorks(refreshToken, clientId) {
      const response = await fetch(`${llng.issuer}oauth2/token`, {
        method: 'POST',
        headers: {'content-type': 'application/x-www-form-urlencoded'},
        body: new URLSearchParams({grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId}),
      });
      return response.ok;
    },
    stop: () => llng.stop(),
  } satisfies ProviderUnderTest;
};

/** The portal's login form (templates/bootstrap/standardform.tpl); no consent page, bypassed for hub. */
async function signIn(page: Page, user: ProviderUser): Promise<void> {
  await page.locator('#userfield').fill(user.username);
  await page.locator('#passwordfield').fill(user.password);
  await page.getByRole('button', {name: 'Connect'}).click();
}
