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
  /** A public client for hub: authorization code with PKCE, refresh tokens, loopback redirect on any port. */
  readonly clientId: string;
  /** The client for the device flow, when the provider offers the flow (some allow one grant type per client). */
  readonly deviceClientId?: string;
  /** Two people with their own namespaces: alice pushes, bob is refused alice/*. */
  readonly users: {alice: ProviderUser; bob: ProviderUser};
  /** What access tokens the provider issues: JWTs checked via JWKS, or opaque ones hub-auth introspects. */
  readonly accessTokens: 'jwt' | 'opaque';
  /** The `oidc` section of hub-auth's configuration, as an operator following the provider's docs writes it. */
  hubAuthOidc(registryHost: string): Record<string, unknown>;
  /** Signs in (and consents, where the provider asks) on the provider's own pages, starting at the page hub opened. */
  signIn(page: Page, user: ProviderUser): Promise<void>;
  /** Confirms a device-flow user code on the provider's pages and signs in; absent when there is no device flow. */
  approveDevice?(page: Page, verificationUri: string, userCode: string, user: ProviderUser): Promise<void>;
  /** Whether the provider still honours this refresh token, asked at the provider itself (after logout it must not). */
  refreshTokenWorks(refreshToken: string): Promise<boolean>;
  stop(): Promise<void>;
}

/** Starts a provider whose files (database, keys, configuration) live under `dir`. */
export type StartProvider = (dir: string) => Promise<ProviderUnderTest>;
