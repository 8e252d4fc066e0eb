import * as client from 'openid-client';
import {HubError, isTransientNetworkError, rootMessage} from '@hub/common/errors';
import {startLoopbackServer, type LoopbackServer, type RefusedConnection} from './loopback.js';
import {audienceParameters, describeOAuthError, scopeRefused, type SignInSettings} from './oidc.js';
import type {Tokens} from './token-grants.js';

export interface BrowserSignInOptions {
  oidcConfig: client.Configuration;
  settings: SignInSettings;
  port?: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Prose for the person (stderr). */
  say: (line: string) => void;
}

/** The loopback server's callback and finish, with what the sign-in adds: the link and the code's exchange. */
export interface BrowserSignIn extends Pick<LoopbackServer, 'callback' | 'finish'> {
  /**
   * The one-time local link to open the browser on, never the authorization URL itself: a command
   * line is readable by every user of this machine.
   */
  link: string;
  /** The provider's tokens for the callback's code, with state, nonce and the ID token checked. */
  exchange(callback: URL): Promise<Tokens>;
}

/**
 * OAuth 2.0 authorization code grant with PKCE (S256) through the loopback redirect (RFC 8252),
 * with state and nonce checked and the ID token validated by openid-client. The login opens the
 * link, waits for the callback, exchanges it, stores the tokens and only then finishes, so that
 * the page can tell the truth about the outcome.
 */
export async function startBrowserSignIn(options: BrowserSignInOptions): Promise<BrowserSignIn> {
  const {oidcConfig, settings} = options;
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
      error === 'invalid_scope' ? scopeRefused(oidcConfig, settings, description ? `${error} (${description})` : error) : undefined,
    onRefused: (refused) =>
      options.say(
        `Warning: ${whoWasRefused(refused)} tried to use your sign-in link; hub refused it and goes on waiting for your browser. Tell your administrator if this was not expected.`,
      ),
  });
  let authorizationUrl: URL;
  try {
    authorizationUrl = client.buildAuthorizationUrl(oidcConfig, {
      redirect_uri: server.redirectUri,
      scope: settings.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...audienceParameters(settings.audience),
    });
  } catch (error) {
    await server.finish({ok: false, message: error instanceof Error ? error.message : 'The sign-in failed.'});
    throw error;
  }
  return {
    link: server.startUrl(authorizationUrl),
    callback: server.callback,
    async exchange(callback) {
      try {
        return await client.authorizationCodeGrant(
          oidcConfig,
          callback,
          {pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true},
          {redirect_uri: server.redirectUri, ...audienceParameters(settings.audience)},
        );
      } catch (error) {
        throw codeExchangeError(error);
      }
    },
    finish: (outcome) => server.finish(outcome),
  };
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
