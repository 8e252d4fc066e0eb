import {getDomain} from 'tldts';
import {ExitCode, HubError} from '@hub/common/errors';

/**
 * Trust on first use for zero-config login: the identity provider a registry's hub-configuration
 * names is where the person types their password, so hub asks before signing in at one that is
 * not on the registry's own domain. A confirmed issuer is saved with the registry's settings,
 * and later logins use it without discovery.
 */

/**
 * The same host, or the same registrable domain (`id.example.com` for `registry.example.com`).
 * Domains where strangers get sibling names (`*.github.io`, the public suffix list's private
 * section) count as suffixes, so `evil.github.io` is not on `company.github.io`'s domain.
 */
export function issuerOnRegistryDomain(registry: string, issuer: string): boolean {
  const registryHost = new URL(`https://${registry}`).hostname;
  const issuerHost = new URL(issuer).hostname;
  if (registryHost === issuerHost) return true;
  const domain = getDomain(registryHost, {allowPrivateDomains: true});
  return domain !== null && domain === getDomain(issuerHost, {allowPrivateDomains: true});
}

/** Asks the person a yes/no question; undefined when there is no terminal to ask on. */
export type Confirm = (question: string) => Promise<boolean | undefined>;

export async function confirmDiscoveredIssuer(registry: string, issuer: string, confirm: Confirm): Promise<void> {
  if (issuerOnRegistryDomain(registry, issuer)) return;
  const answer = await confirm(
    `${registry} sends you to sign in at ${issuer}, which is not on the registry's own domain. Sign in there? [y/N] `,
  );
  if (answer === true) return;
  if (answer === false) {
    throw new HubError(`Login cancelled: you did not confirm ${issuer} for ${registry}.`, {exit: ExitCode.cancelled, code: 'cancelled'});
  }
  throw new HubError(
    `${registry} sends you to sign in at ${issuer}, which is not on the registry's own domain, and there is no terminal to confirm it on.`,
    {
      exit: ExitCode.usage,
      code: 'issuer_unconfirmed',
      suggestions: [`If ${issuer} is your organisation's identity provider, run the login again with --yes, or with --issuer ${issuer}.`],
    },
  );
}
