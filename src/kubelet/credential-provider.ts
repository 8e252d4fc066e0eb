import {ExitCode, HubError} from '@hub/common/errors';
import {check, object, oneOf, optional, recordOf, string} from '@hub/common/json-shape';
import {normalizeRegistryHost} from '../config/registry-host.js';
import {parseImageReference} from '../docker/image-reference.js';

/**
 * The kubelet's image credential provider protocol (credentialprovider.kubelet.k8s.io/v1): a
 * CredentialProviderRequest on stdin, a CredentialProviderResponse on stdout, and anything for the
 * operator on stderr, which the kubelet logs. With KEP-4412 (Kubernetes 1.33+,
 * `tokenAttributes` in the CredentialProviderConfig) the request carries the pod's service-account
 * token, which is what hub-kubelet-credential-provider presents to hub-auth as a workload token;
 * without it, the node's (withToken).
 */

export const CREDENTIAL_PROVIDER_API_VERSION = 'credentialprovider.kubelet.k8s.io/v1';

/** The username the token goes with, as in `docker login -u oidc`: hub-auth names the robot from the token itself. */
export const WORKLOAD_USERNAME = 'oidc';

/** Credentials are not cached into the token's last minute: a pull that starts then would fail half-way. */
const EXPIRY_MARGIN_SECONDS = 60;

const requestShape = object({
  apiVersion: oneOf([CREDENTIAL_PROVIDER_API_VERSION]),
  kind: oneOf(['CredentialProviderRequest']),
  image: string({nonEmpty: true}),
  serviceAccountToken: optional(string()),
  serviceAccountAnnotations: optional(recordOf(string())),
});

export interface CredentialProviderResponse {
  apiVersion: typeof CREDENTIAL_PROVIDER_API_VERSION;
  kind: 'CredentialProviderResponse';
  /** Image: hub-auth decides per repository, so an answer for one image says nothing of another. */
  cacheKeyType: 'Image';
  cacheDuration: string;
  auth: Record<string, {username: string; password: string}>;
}

/** What the kubelet asks for: the image's registry and repository, and the pod's token in KEP-4412 mode. */
export interface ImageRequest {
  registry: string;
  repository: string;
  serviceAccountToken?: string;
}

/** An image request with the token to present for it. */
export interface PullRequest {
  registry: string;
  repository: string;
  token: string;
}

/** The environment variable (set in the CredentialProviderConfig's `env`) naming the node's token file, for the kubelet's mode without service-account tokens. */
const TOKEN_FILE_VARIABLE = 'HUB_WORKLOAD_TOKEN_FILE';

export function parseCredentialProviderRequest(text: string): ImageRequest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw invalidRequest('it is not JSON');
  }
  const checked = check(requestShape, data);
  if ('problem' in checked) throw invalidRequest(`${checked.problem.path.join('.') || 'the request'} ${checked.problem.message}`);
  const {image, serviceAccountToken} = checked.value;
  const reference = parseImageReference(image);
  if (reference.domain === undefined) throw invalidRequest(`the image ${JSON.stringify(image)} names no registry host`);
  return {
    registry: normalizeRegistryHost(reference.domain),
    repository: reference.path,
    ...(serviceAccountToken ? {serviceAccountToken} : {}),
  };
}

/**
 * The token to present: the pod's, where the kubelet sends one (KEP-4412); else, in the kubelet's
 * older mode, which sends only the image, the token in the file TOKEN_FILE_VARIABLE names (the
 * node's own workload identity, say), read at every call since whatever writes it rotates it.
 */
export async function withToken(
  request: ImageRequest,
  env: NodeJS.ProcessEnv,
  readTokenFile: (path: string) => Promise<string>,
): Promise<PullRequest> {
  const {registry, repository} = request;
  if (request.serviceAccountToken) return {registry, repository, token: request.serviceAccountToken};
  const file = env[TOKEN_FILE_VARIABLE];
  if (!file) {
    throw new HubError(`The kubelet sent no service-account token, and ${TOKEN_FILE_VARIABLE} names no token file.`, {
      exit: ExitCode.usage,
      code: 'no_service_account_token',
      suggestions: [
        "For the pod's own token: set tokenAttributes.serviceAccountTokenAudience (hub-auth's workload audience) in the CredentialProviderConfig, on Kubernetes 1.33 or later.",
        `For the node's: set ${TOKEN_FILE_VARIABLE} in the provider's env to a file holding a token hub-auth takes.`,
      ],
    });
  }
  let token: string;
  try {
    token = (await readTokenFile(file)).trim();
  } catch (error) {
    throw new HubError(
      `Cannot read the token file ${file} (${TOKEN_FILE_VARIABLE}): ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}.`,
      {
        code: 'token_file_unreadable',
        suggestions: ['Check that the file exists and that the kubelet may read it.'],
      },
    );
  }
  if (!token) throw new HubError(`The token file ${file} (${TOKEN_FILE_VARIABLE}) is empty.`, {code: 'token_file_unreadable'});
  return {registry, repository, token};
}

/**
 * The answer for one image: the pod's token as the registry password, cached by the kubelet until
 * a minute before the token expires (not at all when it has less left, or says no expiry).
 */
export function credentialProviderResponse(
  {registry, repository, token}: PullRequest,
  expiresAt: number | undefined,
  nowSeconds: number,
): CredentialProviderResponse {
  const cacheSeconds = expiresAt === undefined ? 0 : Math.max(0, Math.floor(expiresAt - nowSeconds - EXPIRY_MARGIN_SECONDS));
  return {
    apiVersion: CREDENTIAL_PROVIDER_API_VERSION,
    kind: 'CredentialProviderResponse',
    cacheKeyType: 'Image',
    cacheDuration: `${cacheSeconds}s`,
    auth: {[`${registry}/${repository}`]: {username: WORKLOAD_USERNAME, password: token}},
  };
}

function invalidRequest(why: string): HubError {
  return new HubError(`The kubelet's CredentialProviderRequest is not one hub can answer: ${why}.`, {
    exit: ExitCode.usage,
    code: 'invalid_credential_provider_request',
    suggestions: [`Check that the CredentialProviderConfig names apiVersion ${CREDENTIAL_PROVIDER_API_VERSION} for hub.`],
  });
}
