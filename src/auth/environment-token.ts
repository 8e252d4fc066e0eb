import {normalizeRegistryHost} from '../config/registry-host.js';
import {ExitCode, HubError} from '../errors.js';
import type {Session} from '../store/session.js';
import {jwtClaims} from './jwt-claims.js';

/**
 * CI and scripts: `HUB_TOKEN` holds an access token that every command and the credential helper
 * use as it is, without the keychain or hub's config. The registry comes from the command, from
 * HUB_REGISTRY, or from the image name; the account from HUB_USERNAME or the token's claims.
 */
export function environmentSession(env: NodeJS.ProcessEnv, registry: string | undefined): Session | undefined {
  const token = env.HUB_TOKEN?.trim();
  if (!token) return undefined;
  const host = registry ?? env.HUB_REGISTRY;
  if (!host) {
    throw new HubError('HUB_TOKEN is set, but no registry is named.', {
      exit: ExitCode.usage,
      code: 'registry_required',
      suggestions: ['Set HUB_REGISTRY too, or name the registry (or use a full image name).'],
    });
  }
  const claims = jwtClaims(token);
  const account = env.HUB_USERNAME || stringClaim(claims, 'preferred_username') || stringClaim(claims, 'sub') || 'hub';
  return {
    registry: normalizeRegistryHost(host),
    issuer: stringClaim(claims, 'iss') ?? '',
    clientId: stringClaim(claims, 'client_id') ?? '',
    account,
    subject: stringClaim(claims, 'sub') ?? account,
    accessToken: token,
    expiresAt: typeof claims?.exp === 'number' ? claims.exp : undefined,
  };
}

function stringClaim(claims: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = claims?.[name];
  return typeof value === 'string' && value ? value : undefined;
}
