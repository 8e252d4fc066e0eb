import {jwtClaims} from '../auth/jwt-claims.js';
import {normalizeRegistryHost} from '../config/registry-host.js';
import {ExitCode, HubError, type HubErrorCode} from '@hub/common/errors';
import type {Session} from '../store/session.js';
import {buildSession, presentedGrant} from './build.js';

export const TOKEN_FOR_OTHER_REGISTRY = 'token_for_other_registry' satisfies HubErrorCode;

/**
 * CI and scripts: `HUB_TOKEN` holds an access token that every command and the credential helper
 * use as it is, without the keychain or hub's config, for the one registry HUB_REGISTRY names. A
 * command about any other registry is refused rather than handed the token: the engine would send
 * it to whatever realm that registry names. The account comes from HUB_USERNAME or the token's claims.
 */
export function environmentSession(env: NodeJS.ProcessEnv, named: string | undefined): Session | undefined {
  const token = env.HUB_TOKEN?.trim();
  if (!token) return undefined;
  if (!env.HUB_REGISTRY) {
    throw new HubError('HUB_TOKEN is set, but HUB_REGISTRY is not: hub uses the token only for the registry HUB_REGISTRY names.', {
      exit: ExitCode.usage,
      code: 'registry_required',
      suggestions: ['Set HUB_REGISTRY to the registry the token is for.'],
    });
  }
  const registry = normalizeRegistryHost(env.HUB_REGISTRY);
  const asked = named === undefined ? registry : normalizeRegistryHost(named);
  if (asked !== registry) {
    throw new HubError(
      `HUB_TOKEN is for ${registry} (HUB_REGISTRY) only, and ${asked} is another registry: hub does not send the token there.`,
      {
        exit: ExitCode.usage,
        code: TOKEN_FOR_OTHER_REGISTRY,
        suggestions: [`Use an image on ${registry}, or unset HUB_TOKEN to use your \`hub login\` session for ${asked}.`],
      },
    );
  }
  const claims = jwtClaims(token);
  const account = env.HUB_USERNAME || stringClaim(claims, 'preferred_username') || stringClaim(claims, 'sub') || 'hub';
  return buildSession(
    registry,
    {issuer: stringClaim(claims, 'iss') ?? '', clientId: stringClaim(claims, 'client_id') ?? ''},
    {account, subject: stringClaim(claims, 'sub') ?? account},
    presentedGrant(token),
  );
}

function stringClaim(claims: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = claims?.[name];
  return typeof value === 'string' && value ? value : undefined;
}
