import type {RegistrySettings} from '../config/settings.js';
import {HubError, rootMessage} from '@hub/common/errors';
import {registryClient, type RegistryClient} from '../registry/client.js';
import type {Realm, Registry} from '../registry/registry.js';
import type {Session} from '../store/session.js';
import {CheckFailed, networkReason, skipped, withoutFinalPeriod, type Passed} from './checkup.js';

/**
 * Where hub-auth is, from the registry's challenge to a request without credentials. Every way
 * this fails is the registry's (down, or not set up for token auth), so it comes back as a value
 * for the registry check to report, and hub-auth's check is skipped.
 */
export async function askRegistry(registry: Registry): Promise<Realm | CheckFailed> {
  try {
    return await registry.realm();
  } catch (error) {
    if (!(error instanceof HubError)) return new CheckFailed(`${registry.host}: ${rootMessage(error)}`);
    if (error.code === 'unreachable') return registryDown(registry, networkReason(error));
    return new CheckFailed(
      withoutFinalPeriod(error.message),
      error.code === 'not_token_auth'
        ? "Set up the registry's token auth with hub-auth as its realm: `hub-auth keygen` writes the auth.token block for its config.yml."
        : undefined,
    );
  }
}

export interface RegistryGrant {
  registry: Registry;
  client: RegistryClient;
  token: string;
}

/** hub-auth, reached where the registry sends clients, trades the access token for a registry token. */
export async function checkHubAuth(
  {registry, settings}: {registry: Registry; settings: RegistrySettings},
  session: Session,
  answer: Realm | CheckFailed,
): Promise<Passed<RegistryGrant>> {
  if (answer instanceof CheckFailed) throw skipped('registry');
  const {realm} = answer;
  const client = registryClient(registry, session);
  try {
    // Any scope will do: hub-auth answers 200 to a token it accepts, whatever the policy grants.
    const token = await client.token([`repository:${session.account}/doctor-check:pull`]);
    return {detail: `${realm} accepted the access token of ${session.account}`, value: {registry, client, token}};
  } catch (error) {
    throw hubAuthFailure(error, realm, registry, settings);
  }
}

/** The registry, asked with hub-auth's token, lets the user in. */
export async function checkRegistry({registry, client, token}: RegistryGrant): Promise<Passed<never>> {
  try {
    await client.get('/v2/', token);
  } catch (error) {
    if (error instanceof HubError && error.code === 'unreachable') throw registryDown(registry, networkReason(error));
    if (error instanceof HubError && error.code === 'registry_error') {
      throw new CheckFailed(
        `${withoutFinalPeriod(error.message)} with hub-auth's token`,
        "The registry must trust hub-auth's tokens: its auth.token service, issuer and rootcertbundle must be hub-auth's service, issuer and signing certificate (`hub-auth keygen` writes that block).",
      );
    }
    throw error;
  }
  return {detail: `${registry.host} accepted hub-auth's token`};
}

function hubAuthFailure(error: unknown, realm: string, registry: Registry, settings: RegistrySettings): unknown {
  if (!(error instanceof HubError)) return error;
  if (error.code === 'unreachable') {
    return new CheckFailed(
      `${realm} did not answer (${networkReason(error)})`,
      `Start hub-auth, or point the registry's auth.token.realm at where it runs.`,
    );
  }
  if (error.code === 'unauthorized') {
    const asked = settings.audience ? `the audience ${settings.audience}` : 'no audience';
    return new CheckFailed(
      `${realm} refused the access token from ${settings.issuer} (HTTP 401)`,
      `hub-auth must trust this login: its oidc.issuer must be ${settings.issuer}, and its oidc.audience what the login asked for (${asked}); \`hub login ${registry.host} --audience AUDIENCE\` asks for another.`,
    );
  }
  if (error.code === 'token_service_error') {
    return new CheckFailed(`${withoutFinalPeriod(error.message)} (${realm})`, "hub-auth's log says why (one JSON line per request).");
  }
  return error;
}

function registryDown(registry: Registry, reason: string): CheckFailed {
  return new CheckFailed(
    `${registry.host} did not answer (${reason})`,
    `Start the registry, or check that it is served at ${registry.baseUrl}/v2/.`,
  );
}
