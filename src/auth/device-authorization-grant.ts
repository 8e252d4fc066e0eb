import * as client from 'openid-client';
import {ExitCode, HubError, isTransientNetworkError, rootMessage} from '@hub/common/errors';
import type {OpenBrowser} from './browser.js';
import {audienceParameters, describeOAuthError, scopeRefused, type SignInSettings} from './oidc.js';
import type {Tokens} from './token-grants.js';

/** Whether the provider offers the OAuth 2.0 device authorization grant (RFC 8628). */
export function supportsDeviceFlow(oidcConfig: client.Configuration): boolean {
  return Boolean(oidcConfig.serverMetadata().device_authorization_endpoint);
}

export interface DeviceLoginOptions {
  oidcConfig: client.Configuration;
  settings: SignInSettings;
  signal?: AbortSignal;
  /** How long to wait for the sign-in (--timeout), or less when the code expires sooner. */
  timeoutMs: number;
  say: (line: string) => void;
  /** Opens the verification page here too when this machine can show a browser. */
  openBrowser?: OpenBrowser;
}

/**
 * RFC 8628: show a code and a URL, let the person sign in on any device, and poll at the
 * provider's interval (openid-client backs off by 5 s on `slow_down`).
 */
export async function loginWithDevice(options: DeviceLoginOptions): Promise<Tokens> {
  const {oidcConfig, settings} = options;
  let authorization: client.DeviceAuthorizationResponse;
  try {
    authorization = await client.initiateDeviceAuthorization(oidcConfig, {
      scope: settings.scopes,
      ...audienceParameters(settings.audience),
    });
  } catch (error) {
    if (error instanceof client.ResponseBodyError && error.error === 'invalid_scope')
      throw scopeRefused(oidcConfig, settings, describeOAuthError(error));
    throw new HubError(`The identity provider did not start a device sign-in: ${describeOAuthError(error)}.`, {
      code: 'device_flow_failed',
      cause: error,
    });
  }
  const {user_code: code, verification_uri: uri, verification_uri_complete: complete} = authorization;
  options.say(`To sign in, open ${uri} on any device and enter the code ${code}`);
  if (complete) options.say(`  or open ${complete}`);
  // Without the code: a command line is readable by every local user, who could enter the code
  // first and sign this login in to their own account.
  if (options.openBrowser) await options.openBrowser(uri);
  const waitSeconds = Math.min(Math.round(options.timeoutMs / 1000), authorization.expires_in);
  options.say(`Waiting for the sign-in to finish (hub waits ${describeSeconds(waitSeconds)}; Ctrl-C to cancel)…`);
  const deadline = AbortSignal.timeout(options.timeoutMs);
  try {
    return await client.pollDeviceAuthorizationGrant(oidcConfig, authorization, audienceParameters(settings.audience), {
      signal: options.signal ? AbortSignal.any([options.signal, deadline]) : deadline,
    });
  } catch (error) {
    throw pollError(error, options.signal, deadline.aborted ? waitSeconds : undefined);
  }
}

function describeSeconds(seconds: number): string {
  return seconds < 120 ? `${seconds}s` : `${Math.round(seconds / 60)} min`;
}

/** `timedOutAfter`: the seconds hub waited when --timeout ended the wait. */
function pollError(error: unknown, signal: AbortSignal | undefined, timedOutAfter: number | undefined): HubError {
  if (signal?.aborted) return new HubError('Login cancelled.', {exit: ExitCode.cancelled, code: 'cancelled'});
  if (timedOutAfter !== undefined) {
    return new HubError(`No sign-in arrived within ${describeSeconds(timedOutAfter)}; hub stopped waiting and stored nothing.`, {
      code: 'login_timeout',
      suggestions: ['Run `hub login --device` again and enter the code within the time shown, or raise --timeout.'],
    });
  }
  if (error instanceof client.ResponseBodyError && error.error === 'expired_token') {
    return new HubError('The code expired before the sign-in was finished; nothing was stored.', {
      code: 'expired_token',
      suggestions: ['Run `hub login --device` again and finish signing in within the time shown.'],
    });
  }
  if (error instanceof client.ResponseBodyError && error.error === 'access_denied') {
    return new HubError(`The sign-in was refused at the identity provider (${describeOAuthError(error)}); nothing was stored.`, {
      code: 'access_denied',
      suggestions: ['Check with your identity provider administrator that you may use this registry, then try again.'],
    });
  }
  if (isTransientNetworkError(error)) {
    return new HubError(`The identity provider stopped answering during the device sign-in: ${rootMessage(error)}.`, {
      code: 'provider_unreachable',
      cause: error,
    });
  }
  return new HubError(`The device sign-in failed: ${describeOAuthError(error)}. Nothing was stored.`, {
    code: 'device_flow_failed',
    cause: error,
  });
}
