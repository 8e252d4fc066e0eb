import {readFile} from 'node:fs/promises';
import {HubError} from '@hub/common/errors';
import {honourProxyEnvironment} from '@hub/common/net/proxy-environment';
import {jwtClaims} from '../auth/jwt-claims.js';
import {readStdin} from '../io/stdin.js';
import {explainFailure} from '../io/program-error.js';
import {grantedAccess, registryClient} from '../registry/client.js';
import {registryAt} from '../registry/registry.js';
import {
  credentialProviderResponse,
  parseCredentialProviderRequest,
  withToken,
  WORKLOAD_USERNAME,
  type PullRequest,
} from './credential-provider.js';

/**
 * `hub-kubelet-credential-provider`: the kubelet runs it (KEP-2133) for each image that matches
 * its CredentialProviderConfig, before the pod starts. It asks the registry's own token service
 * (the realm the registry names, held to https or loopback) for a pull of the image with the pod's
 * service-account token (or the node's: withToken), so that a token hub-auth refuses is told in the kubelet's log with
 * hub-auth's reason, not as a bare "denied" from the runtime, and only then hands the token to the
 * kubelet as the image's password.
 */
export async function serve(): Promise<number> {
  try {
    const request = await withToken(parseCredentialProviderRequest(await readStdin()), process.env, (path) => readFile(path, 'utf8'));
    await honourProxyEnvironment(process.env);
    await checkPullGranted(request);
    const exp = jwtClaims(request.token)?.exp;
    const response = credentialProviderResponse(request, typeof exp === 'number' ? exp : undefined, Date.now() / 1000);
    process.stdout.write(`${JSON.stringify(response)}\n`);
    return 0;
  } catch (error) {
    // Never the token: no message quotes it.
    const {message, advice} = explainFailure('hub-kubelet-credential-provider', error);
    process.stderr.write(`hub-kubelet-credential-provider: ${message}\n${advice}`);
    return error instanceof HubError ? error.exit : 1;
  }
}

async function checkPullGranted({registry: host, repository, token}: PullRequest): Promise<void> {
  const registry = registryAt(host);
  let registryToken: string;
  try {
    registryToken = await registryClient(registry, {account: WORKLOAD_USERNAME, accessToken: token}).token([
      `repository:${repository}:pull`,
    ]);
  } catch (error) {
    if (!(error instanceof HubError) || error.code !== 'unauthorized') throw error;
    // Its message gives hub-auth's reason (the claim that did not match); its advice (hub login) is for people.
    throw new HubError(error.message, {
      code: 'token_refused',
      suggestions: [
        "Check hub-auth's workloads.issuers entry for this cluster (issuer, audience, required claims) and the CredentialProviderConfig's serviceAccountTokenAudience.",
      ],
    });
  }
  const granted = grantedAccess(registryToken).some(
    (entry) => entry.type === 'repository' && entry.name === repository && entry.actions.includes('pull'),
  );
  if (!granted) {
    const robot = jwtClaims(registryToken)?.sub;
    throw new HubError(`${host} does not let ${typeof robot === 'string' ? robot : 'this pod'} pull ${repository}.`, {
      code: 'denied',
      suggestions: ["Grant the pod's robot pull there in hub-auth's policy, or use an image it may pull."],
    });
  }
}
