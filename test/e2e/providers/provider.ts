import type {Page} from 'playwright-core';

/**
 * One real OpenID provider as the parametrised provider suite drives it. Each provider is set up
 * as its own documentation says; the adapter only knows how to start it, which clients and users
 * it was given, and how a person clicks through its pages. A new provider is one file like this.
 */
export interface ProviderUser {
  username: string;
  password: string;
}

export interface ProviderUnderTest {
  readonly name: string;
  /** The issuer exactly as the provider's discovery document names it. */
  readonly issuer: string;
  /** A public client for hub: authorization code with PKCE, refresh tokens, loopback redirect. */
  readonly clientId: string;
  /**
   * The loopback port of the redirect URI registered for `clientId`, for a provider that matches
   * redirect URIs exactly instead of on any port (RFC 8252 §7.3): `hub login` gets `--port`.
   */
  readonly redirectPort?: number;
  /** The scopes hub asks for (hub-auth publishes them), as the provider's documentation names them; hub's default when absent. */
  readonly scopes?: string;
  /**
   * Scopes for a plain OAuth 2.0 login (no `openid`), where the provider allows one: it then issues
   * no ID token, and hub must learn the account from hub-auth. The device-flow check uses them.
   */
  readonly oauthOnlyScopes?: string;
  /** The client for the device flow, when the provider offers the flow (some allow one grant type per client). */
  readonly deviceClientId?: string;
  /** Two people with their own namespaces: alice pushes, bob is refused alice/*. */
  readonly users: {alice: ProviderUser; bob: ProviderUser};
  /** What access tokens the provider issues: JWTs checked via JWKS, or opaque ones hub-auth introspects. */
  readonly accessTokens: 'jwt' | 'opaque';
  /**
   * False for a provider that keeps one refresh token for the grant's life instead of issuing a
   * new one at each refresh (RFC 6749 §6 leaves rotation to the provider); absent: it rotates.
   */
  readonly rotatesRefreshTokens?: false;
  /**
   * Whether the provider lets hub, a public client, revoke its refresh token (RFC 7009). When
   * false, logout must say the provider did not revoke the session, and the token still works.
   */
  readonly revokesPublicClientTokens: boolean;
  /** The whole `oidc` section of hub-auth's configuration, as an operator following the provider's docs writes it. */
  hubAuthOidc(registryHost: string): Record<string, unknown>;
  /** Variables hub-auth's configuration reads secrets from (`{env: NAME}`), e.g. its introspection client's secret. */
  readonly hubAuthEnv?: Record<string, string>;
  /** Sets the access token lifetime of tokens issued from now on (the refresh tests make tokens expire at once). */
  setAccessTokenTtl(seconds: number): Promise<void>;
  /** Signs in (and consents, where the provider asks) on the provider's own pages, starting at the page hub opened. */
  signIn(page: Page, user: ProviderUser): Promise<void>;
  /** Confirms a device-flow user code on the provider's pages and signs in; absent when there is no device flow. */
  approveDevice?(page: Page, verificationUri: string, userCode: string, user: ProviderUser): Promise<void>;
  /** Whether the provider still honours this refresh token of `clientId`, asked at the provider itself (after logout it must not). */
  refreshTokenWorks(refreshToken: string, clientId: string): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Starts a provider whose files (database, keys, configuration) live under `dir`, issuing access
 * tokens for the registry at `registryHost` (hub asks for the audience https://registryHost).
 */
export type StartProvider = (options: {dir: string; registryHost: string}) => Promise<ProviderUnderTest>;
