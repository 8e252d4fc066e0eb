import * as client from 'openid-client';
import {HubError, isTransientNetworkError, rootMessage} from '@hub/common/errors';
import type {OpenBrowser} from './browser.js';
import {startLoopbackServer, type RefusedConnection} from './loopback.js';
import {audienceParameters, describeOAuthError, scopeRefused, type ProviderSettings} from './oidc.js';

export type TokenResponse = Awaited<ReturnType<typeof client.authorizationCodeGrant>>;

export interface BrowserLoginOptions {
  provider: client.Configuration;
  settings: ProviderSettings;
  port?: number;
  timeoutMs: number;
  signal?: AbortSignal;
  openBrowser: OpenBrowser;
  /** Prose for the person (stderr). */
  say: (line: string) => void;
  /**
   * Runs once the provider has issued validated tokens and before the browser gets its answer,
   * so that the page can tell the truth about the outcome. Returns the page's message.
   */
  complete: (tokens: TokenResponse) => Promise<string>;
  /** Told how long the callback took to become stored tokens (the benchmark's figure). */
  onStored?: (callbackToStoredMs: number) => void;
}

/**
 * OAuth 2.0 authorization code grant with PKCE (S256) through the loopback redirect (RFC 8252),
 * with state and nonce checked and the ID token validated by openid-client.
 */
export async function loginWithBrowser(options: BrowserLoginOptions): Promise<void> {
  const {provider, settings} = options;
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const server = await startLoopbackServer({
    port: options.port,
    expectedState: state,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    checksWhenNotSentBack: [
      "Look at the page in the browser: an error there (such as invalid_client or a redirect_uri mismatch) is the identity provider's answer, which cannot reach hub.",
      `Check that the client id ${settings.clientId} is registered at ${settings.issuer} (--client-id, HUB_CLIENT_ID) and allows the redirect URI ${options.port ? `http://127.0.0.1:${options.port}/callback` : 'http://127.0.0.1/callback on any port'}.`,
    ],
    explainRefusal: (error, description) =>
      error === 'invalid_scope' ? scopeRefused(provider, settings, description ? `${error} (${description})` : error) : undefined,
    onRefused: (refused) =>
      options.say(
        `Warning: ${whoWasRefused(refused)} tried to use your sign-in link; hub refused it and goes on waiting for your browser. Tell your administrator if this was not expected.`,
      ),
  });

  try {
    const authorizationUrl = client.buildAuthorizationUrl(provider, {
      redirect_uri: server.redirectUri,
      scope: settings.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...audienceParameters(settings.audience),
    });
    // The browser gets a one-time local link, never the authorization URL itself: a command
    // line is readable by every user of this machine.
    const link = server.startUrl(authorizationUrl);
    const opened = await options.openBrowser(link);
    options.say(
      opened
        ? `Opened your browser to sign in. If it did not open, visit (once):\n  ${link}`
        : `Could not open a browser here. Open this link in a browser on this machine to sign in (it works once):\n  ${link}`,
    );
    options.say('Waiting for the sign-in to finish… (Ctrl-C to cancel)');

    const callbackUrl = await server.callback;
    const callbackAt = performance.now();
    let tokens: TokenResponse;
    try {
      tokens = await client.authorizationCodeGrant(
        provider,
        callbackUrl,
        {pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true},
        {redirect_uri: server.redirectUri, ...audienceParameters(settings.audience)},
      );
    } catch (error) {
      throw codeExchangeError(error);
    }
    const message = await options.complete(tokens);
    options.onStored?.(performance.now() - callbackAt);
    await server.finish({ok: true, message});
  } catch (error) {
    await server.finish({ok: false, message: error instanceof Error ? error.message : 'The sign-in failed.'});
    throw error;
  }
}

function codeExchangeError(error: unknown): HubError {
  if (isTransientNetworkError(error)) {
    return new HubError(`The identity provider stopped answering while finishing the sign-in: ${rootMessage(error)}.`, {
      code: 'provider_unreachable',
      cause: error,
      suggestions: ['Try again in a moment.'],
    });
  }
  return new HubError(`The identity provider's answer could not be trusted or used: ${describeOAuthError(error)}. Nothing was stored.`, {
    code: 'token_response_invalid',
    cause: error,
    suggestions: ['Run the login again; if it keeps failing, tell your identity provider administrator.'],
  });
}

function whoWasRefused(refused: RefusedConnection): string {
  return refused.kind === 'user'
    ? `another user of this machine (uid ${refused.uid})`
    : 'someone on this machine whose connection closed before hub could tell whose it was';
}
