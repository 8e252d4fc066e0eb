import {ExitCode, HubError} from '@hub/common/errors';
import {check, object, oneOf, optional, recordOf, string, type ShapeOf} from '@hub/common/json-shape';
import {normalizeRegistryHost} from '../config/registry-host.js';
import {parseImageReference} from '../docker/image-reference.js';

/**
 * The kubelet's image credential provider protocol (credentialprovider.kubelet.k8s.io/v1): a
 * CredentialProviderRequest on stdin, a CredentialProviderResponse on stdout, and anything for the
 * operator on stderr, which the kubelet logs. With KEP-4412 (Kubernetes 1.33+,
 * `tokenAttributes` in the CredentialProviderConfig) the request carries the pod's service-account
 * token, which is what hub-kubelet-credential-provider presents to hub-auth as a workload token.
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

export type CredentialProviderRequest = ShapeOf<typeof requestShape>;

export interface CredentialProviderResponse {
  apiVersion: typeof CREDENTIAL_PROVIDER_API_VERSION;
  kind: 'CredentialProviderResponse';
  /** Image: hub-auth decides per repository, so an answer for one image says nothing of another. */
  cacheKeyType: 'Image';
  cacheDuration: string;
  auth: Record<string, {username: string; password: string}>;
}

/** What the kubelet asks: the registry and repository of the image, and the pod's token. */
export interface PullRequest {
  registry: string;
  repository: string;
  token: string;
}

export function parseCredentialProviderRequest(text: string): PullRequest {
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
  if (!serviceAccountToken) {
    throw new HubError(
      "The kubelet sent no service-account token: hub-kubelet-credential-provider presents the pod's own token to hub-auth.",
      {
        exit: ExitCode.usage,
        code: 'no_service_account_token',
        suggestions: [
          "Set tokenAttributes.serviceAccountTokenAudience (hub-auth's workload audience) in the CredentialProviderConfig, on Kubernetes 1.33 or later.",
        ],
      },
    );
  }
  return {registry: normalizeRegistryHost(reference.domain), repository: reference.path, token: serviceAccountToken};
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
