import {readFile} from 'node:fs/promises';
import {describe, expect, it} from 'vitest';
import {parse} from 'yaml';
import {
  CREDENTIAL_PROVIDER_API_VERSION,
  credentialProviderResponse,
  parseCredentialProviderRequest,
  withToken,
} from '../../../src/kubelet/credential-provider.js';

const request = (fields: Record<string, unknown>) =>
  JSON.stringify({
    apiVersion: CREDENTIAL_PROVIDER_API_VERSION,
    kind: 'CredentialProviderRequest',
    image: 'registry.example.com:5000/workloads/cluster/build/app:1',
    serviceAccountToken: 'header.payload.signature',
    serviceAccountAnnotations: {},
    ...fields,
  });

describe("the kubelet's credential provider request", () => {
  it('gives the registry, the repository and the pod’s token, for a tag or a digest', () => {
    expect(parseCredentialProviderRequest(request({}))).toEqual({
      registry: 'registry.example.com:5000',
      repository: 'workloads/cluster/build/app',
      serviceAccountToken: 'header.payload.signature',
    });
    // The kubelet's mode without service-account tokens sends the image alone.
    expect(parseCredentialProviderRequest(request({serviceAccountToken: undefined, serviceAccountAnnotations: undefined}))).toEqual({
      registry: 'registry.example.com:5000',
      repository: 'workloads/cluster/build/app',
    });
    const pinned = parseCredentialProviderRequest(request({image: `Registry.Example.com/app/x@sha256:${'a'.repeat(64)}`}));
    expect(pinned).toMatchObject({registry: 'registry.example.com', repository: 'app/x'});
  });

  it.each([
    ['not JSON', '{', /it is not JSON/],
    ['another API version', request({apiVersion: 'credentialprovider.kubelet.k8s.io/v1beta1'}), /apiVersion expected one of/],
    ['another kind', request({kind: 'CredentialProviderResponse'}), /kind expected one of/],
    ['no image', request({image: ''}), /image must not be empty/],
    ['an image without a registry host', request({image: 'library/app:1'}), /names no registry host/],
    ['an image that is no reference', request({image: 'registry.example.com/App:1'}), /uppercase/],
  ])('refuses %s, saying what is wrong', (_case, text, message) => {
    expect(() => parseCredentialProviderRequest(text)).toThrow(message);
  });
});

describe('the token a pull goes with', () => {
  const image = {registry: 'registry.example.com', repository: 'ci/app'};
  const noFile = () => Promise.reject(Object.assign(new Error('gone'), {code: 'ENOENT'}));

  it("is the pod's where the kubelet sends one, read from no file", async () => {
    expect(await withToken({...image, serviceAccountToken: 'pod'}, {HUB_WORKLOAD_TOKEN_FILE: '/x'}, noFile)).toEqual({
      ...image,
      token: 'pod',
    });
  });

  it("is the node's from HUB_WORKLOAD_TOKEN_FILE otherwise, read at each call and trimmed", async () => {
    let reads = 0;
    const read = (path: string) => (reads++, Promise.resolve(`${path}-token\n`));
    expect(await withToken(image, {HUB_WORKLOAD_TOKEN_FILE: '/var/run/hub/token'}, read)).toEqual({
      ...image,
      token: '/var/run/hub/token-token',
    });
    await withToken(image, {HUB_WORKLOAD_TOKEN_FILE: '/var/run/hub/token'}, read);
    expect(reads).toBe(2);
  });

  it('without either, says which setting gives one, exit 2', async () => {
    const refusal = await withToken(image, {}, noFile).catch(
      (error: unknown) => error as {code: string; exit: number; suggestions: string[]},
    );
    expect(refusal).toMatchObject({code: 'no_service_account_token', exit: 2});
    const advice = (refusal as {suggestions: string[]}).suggestions.join(' ');
    expect(advice).toContain('tokenAttributes.serviceAccountTokenAudience');
    expect(advice).toContain('HUB_WORKLOAD_TOKEN_FILE');
  });

  it('names the file it cannot read, or that is empty', async () => {
    await expect(withToken(image, {HUB_WORKLOAD_TOKEN_FILE: '/nowhere'}, noFile)).rejects.toThrow(
      'Cannot read the token file /nowhere (HUB_WORKLOAD_TOKEN_FILE): ENOENT.',
    );
    await expect(withToken(image, {HUB_WORKLOAD_TOKEN_FILE: '/empty'}, () => Promise.resolve(' \n'))).rejects.toThrow('is empty');
  });
});

describe("the credential provider's response", () => {
  const pull = {registry: 'registry.example.com', repository: 'ci/app', token: 'the-token'};

  it('answers for the image with the token, cached until a minute before it expires', () => {
    expect(credentialProviderResponse(pull, 1000 + 600, 1000)).toEqual({
      apiVersion: CREDENTIAL_PROVIDER_API_VERSION,
      kind: 'CredentialProviderResponse',
      cacheKeyType: 'Image',
      cacheDuration: '540s',
      auth: {'registry.example.com/ci/app': {username: 'oidc', password: 'the-token'}},
    });
  });

  it('is not cached when the token has a minute or less left, or says no expiry', () => {
    expect(credentialProviderResponse(pull, 1030, 1000).cacheDuration).toBe('0s');
    expect(credentialProviderResponse(pull, undefined, 1000).cacheDuration).toBe('0s');
  });
});

describe('the CredentialProviderConfig hub ships', () => {
  it('names the provider as its bin is called, and asks the kubelet for the pod’s token in the version hub answers', async () => {
    const config = parse(
      await readFile(new URL('../../../packages/hub-auth/deploy/kubelet/credential-provider-config.yaml', import.meta.url), 'utf8'),
    ) as {kind: string; providers: Array<Record<string, unknown>>};
    const manifest = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as {bin: Record<string, string>};
    expect(config.kind).toBe('CredentialProviderConfig');
    expect(config.providers).toHaveLength(1);
    const [provider] = config.providers;
    expect(Object.keys(manifest.bin)).toContain(provider!.name);
    expect(provider).toMatchObject({
      apiVersion: CREDENTIAL_PROVIDER_API_VERSION,
      tokenAttributes: {requireServiceAccount: true, cacheType: 'Token', serviceAccountTokenAudience: 'https://registry.example.com'},
    });
  });
});
