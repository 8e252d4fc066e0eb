import {normalizeRegistryHost} from '../config/registry-host.js';

/**
 * docker's credential-helper protocol (docker-credential-helpers): the action is the first
 * argument, the payload comes on stdin, the answer goes to stdout, and an error is a message on
 * stdout with exit code 1. docker matches some of these messages word for word.
 */

export const CREDENTIALS_NOT_FOUND = 'credentials not found in native keychain';
export const MISSING_SERVER_URL = 'no credentials server URL';

export interface Credentials {
  username: string;
  secret: string;
  /** docker's identity token for this registry (session/identity-token.ts), given instead of the access token. */
  identityToken?: string;
}

/** The username with which docker's credential-helper protocol says: the secret is an identity token. */
export const IDENTITY_TOKEN_USERNAME = '<token>';

export interface CredentialSource {
  /** Credentials for a registry (as normalizeRegistryHost names it), or undefined when hub has no session there. */
  get(registry: string): Promise<Credentials | undefined>;
  /** Every registry hub holds a session for, with its username. */
  list(): Promise<Record<string, string>>;
  /** Read only when asked: the helper's start-up is paid on every docker operation. */
  version(): string;
}

export interface HelperAnswer {
  stdout: string;
  exitCode: 0 | 1;
  /** For the person, on stderr, which docker and podman pass through: stdout is for the client to parse or match. */
  stderr?: string;
}

const ok = (stdout: string, stderr?: string): HelperAnswer => ({stdout, exitCode: 0, ...(stderr ? {stderr} : {})});
const fail = (message: string, stderr?: string): HelperAnswer => ({stdout: `${message}\n`, exitCode: 1, ...(stderr ? {stderr} : {})});

export async function answerCredentialRequest(action: string | undefined, input: string, source: CredentialSource): Promise<HelperAnswer> {
  switch (action) {
    case 'get': {
      const serverUrl = input.trim();
      if (!serverUrl) return fail(MISSING_SERVER_URL);
      const registry = registryOf(serverUrl);
      const credentials = registry === undefined ? undefined : await source.get(registry);
      // docker matches the stdout word for word (it then goes on without credentials and shows only
      // the registry's "denied"): what to do goes to stderr.
      if (!credentials)
        return fail(
          CREDENTIALS_NOT_FOUND,
          registry && `hub has no session for ${registry}: sign in with "${hubCommand('login', registry)}".`,
        );
      // An identity token outlives the operation: the engine trades it at the realm (grant_type=
      // refresh_token) for each registry token it needs. Without one, the access token is the
      // password, sent to hub-auth as Basic credentials. The protocol has no room for the account
      // beside an identity token ("<token>" is the username that says what the secret is): `list` gives it.
      if (credentials.identityToken)
        return ok(JSON.stringify({ServerURL: serverUrl, Username: IDENTITY_TOKEN_USERNAME, Secret: credentials.identityToken}));
      return ok(JSON.stringify({ServerURL: serverUrl, Username: credentials.username, Secret: credentials.secret}));
    }
    case 'store': {
      const registry = storedRegistry(input);
      // docker quotes the helper's answer in backticks ("out: `…`"): no backticks of our own inside.
      return fail(
        `hub keeps the credentials for ${registry ?? 'this registry'} itself: sign in with "${hubCommand('login', registry)}" instead of "docker login".`,
      );
    }
    case 'erase': {
      // `docker logout` and `podman logout` end the client's use of the registry, not the hub session
      // (they then say "Removed login credentials"): say that the next pull still signs in, and how to stop it.
      const registry = registryOf(input.trim());
      return ok(
        '',
        `the hub session for ${registry ?? 'this registry'} stays, and the next pull uses it: end it with "${hubCommand('logout', registry)}".`,
      );
    }
    case 'list':
      return ok(JSON.stringify(await source.list()));
    case 'version':
      return ok(`docker-credential-hub (hub) ${source.version()}\n`);
    default:
      return fail('Usage: docker-credential-hub <store|get|erase|list|version>');
  }
}

/** `hub login REGISTRY`, or without the registry when the client named none hub could read. */
function hubCommand(verb: 'login' | 'logout', registry: string | undefined): string {
  return `hub ${verb}${registry ? ` ${registry}` : ''}`;
}

/**
 * The registry a client names, in any of the forms docker, podman and nerdctl send (`host`,
 * `https://host/`, `https://host/v1/`, upper case…); undefined when it names none.
 */
function registryOf(serverUrl: string): string | undefined {
  try {
    return normalizeRegistryHost(serverUrl);
  } catch {
    return undefined;
  }
}

/** The registry `docker login` tried to store credentials for, as hub names it; undefined when the payload names none. */
function storedRegistry(input: string): string | undefined {
  try {
    const {ServerURL} = JSON.parse(input) as {ServerURL?: unknown};
    return typeof ServerURL === 'string' ? registryOf(ServerURL) : undefined;
  } catch {
    return undefined;
  }
}
