import {execFile} from 'node:child_process';
import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startForwardProxy, type ForwardProxy} from '@hub/test-stack/forward-proxy';
import {HUB_AUTH_BIN, keygen, SERVICE, startHubAuth, TOKEN_ISSUER, writeHubAuthConfig, type HubAuth} from '@hub/test-stack/hub-auth';
import {runHub} from '@hub/test-stack/hub-cli';
import {ROBOT_CLIENT, startIdentityProvider, type IdentityProvider} from '@hub/test-stack/identity-provider';
import {freePort} from '@hub/test-stack/ports';
import {assertPrograms, e2eEnabled} from '@hub/test-stack/prerequisites';
import {startRegistry, type Registry} from '@hub/test-stack/registry';
import {createSandbox, type Sandbox} from '@hub/test-stack/sandbox';

const HELPER = fileURLToPath(new URL('../../bin/docker-credential-hub.cjs', import.meta.url));
const PROGRAMS = ['docker-registry', 'openssl'];
/** Names only the proxy resolves (@hub/test-stack/forward-proxy). */
const IDP_NAME = 'idp.hub.test';
const REGISTRY_NAME = 'registry.hub.test';
const openssl = (args: string[], cwd: string) => promisify(execFile)('openssl', args, {cwd});

/**
 * A company network: the identity provider and the registry are https://idp.hub.test and
 * https://registry.hub.test, names only the company's proxy resolves, with certificates of the
 * company's own CA. hub-auth, the registry's realm, answers on this machine's loopback, which is
 * never proxied. hub, docker-credential-hub and hub-auth each get HTTPS_PROXY and
 * NODE_EXTRA_CA_CERTS, as the README says.
 */
describe.runIf(e2eEnabled(PROGRAMS))('proxies and private CAs', () => {
  let sandbox: Sandbox;
  let idp: IdentityProvider;
  /** The proxy hub and docker-credential-hub use; hub-auth has one of its own, to tell them apart. */
  let proxy: ForwardProxy;
  let hubAuthProxy: ForwardProxy;
  let hubAuth: HubAuth;
  let registry: Registry;
  let env: NodeJS.ProcessEnv;
  let behindProxy: NodeJS.ProcessEnv;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    assertPrograms(PROGRAMS);
    sandbox = await createSandbox('hub-proxy');
    stops.push(() => sandbox.remove());
    const caFile = await privateCa(sandbox.dir);
    idp = await startIdentityProvider({
      tls: {
        hostname: IDP_NAME,
        key: await readFile(join(sandbox.dir, 'server.key'), 'utf8'),
        cert: await readFile(join(sandbox.dir, 'server.crt'), 'utf8'),
      },
    });
    stops.push(() => idp.stop());
    proxy = await startForwardProxy();
    stops.push(() => proxy.stop());
    hubAuthProxy = await startForwardProxy();
    stops.push(() => hubAuthProxy.stop());
    const registryPort = await freePort();
    // hub-auth becomes ready only once it has loaded the provider's metadata: through its proxy.
    hubAuth = await startHubAuth({
      dir: join(sandbox.dir, 'hub-auth'),
      oidcIssuer: idp.issuer,
      registryHost: `${REGISTRY_NAME}:${registryPort}`,
      extra: {registry: {url: `https://${REGISTRY_NAME}:${registryPort}`}},
      signing: await keygen(join(sandbox.dir, 'keys')),
      env: {HTTPS_PROXY: hubAuthProxy.url, NODE_EXTRA_CA_CERTS: caFile},
    });
    stops.push(() => hubAuth.stop());
    registry = await startRegistry(
      join(sandbox.dir, 'registry'),
      {realm: `${hubAuth.url}/token`, service: SERVICE, issuer: TOKEN_ISSUER, rootCertBundle: join(sandbox.dir, 'keys', 'signing.crt')},
      registryPort,
      {hostname: REGISTRY_NAME, certificate: join(sandbox.dir, 'server.crt'), key: join(sandbox.dir, 'server.key'), ca: caFile},
    );
    stops.push(() => registry.stop());
    env = {
      ...sandbox.env,
      HUB_CONFIG_DIR: join(sandbox.dir, 'config'),
      HUB_CLIENT_SECRET: ROBOT_CLIENT.secret,
      NODE_EXTRA_CA_CERTS: caFile,
    };
    behindProxy = {...env, HTTPS_PROXY: proxy.url};
  });

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  const login = (runEnv: NodeJS.ProcessEnv) =>
    runHub(
      [
        'login',
        registry.host,
        '--client-credentials',
        '--issuer',
        idp.issuer,
        '--client-id',
        ROBOT_CLIENT.id,
        '--insecure-storage',
        '--docker-config',
        'none',
      ],
      runEnv,
    );

  /** `docker-credential-hub get`, as docker runs it. */
  function helperGet(runEnv: NodeJS.ProcessEnv): Promise<{code: number; stdout: string; stderr: string}> {
    return new Promise((resolve) => {
      const child = execFile(process.execPath, [HELPER, 'get'], {env: runEnv}, (error, stdout, stderr) =>
        resolve({code: error ? Number(error.code ?? 1) : 0, stdout, stderr}),
      );
      child.stdin?.end(`${registry.host}\n`);
    });
  }

  /** `docker-credential-hub get` after the stored access token expired: a renewal at the provider. */
  async function helperGetAfterExpiry(runEnv: NodeJS.ProcessEnv) {
    const file = join(env.HUB_CONFIG_DIR!, 'insecure-sessions.json');
    const stored = JSON.parse(await readFile(file, 'utf8')) as {sessions: Record<string, {expiresAt?: number}>};
    // The robot's one session, whatever its account's entry is called.
    const [session] = Object.values(stored.sessions);
    session!.expiresAt = 1;
    await writeFile(file, JSON.stringify(stored));
    return helperGet(runEnv);
  }

  it('without the proxy the provider name does not resolve: the symptom of the issue', async () => {
    const result = await login(env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`Cannot reach the identity provider at ${idp.issuer}/`);
    expect(result.stderr).toContain('ENOTFOUND');
  });

  it('hub login goes to the provider and the registry through HTTPS_PROXY, trusting their CA from NODE_EXTRA_CA_CERTS, and to the loopback realm directly', async () => {
    const result = await login(behindProxy);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`as robots/${ROBOT_CLIENT.id}`);
    // Discovery and the token at the provider, the registry's challenge: through the proxy. The
    // realm (hub-auth on loopback, where hub gets the registry token it checks the login with): never.
    expect(new Set(proxy.asked)).toEqual(new Set([new URL(idp.issuer).host, registry.host]));
    // hub-auth checked the robot's token with the provider's keys, through its own proxy.
    expect(hubAuthProxy.asked).toContain(new URL(idp.issuer).host);
  });

  it('docker-credential-hub renews an expired token at the provider through the proxy', async () => {
    const asked = proxy.asked.length;
    const grants = idp.grants.client_credentials ?? 0;
    const result = await helperGetAfterExpiry({...behindProxy, NODE_DEBUG: 'module'});
    expect(result.code, result.stdout).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({Username: `robots/${ROBOT_CLIENT.id}`});
    // A renewal behind a proxy is when the helper loads the proxy agent.
    expect(result.stderr).toMatch(/node_modules\/undici\//);
    expect(idp.grants.client_credentials).toBe(grants + 1);
    expect(proxy.asked.slice(asked)).toContain(new URL(idp.issuer).host);
  });

  it('docker-credential-hub answers from a valid token without loading the proxy agent, HTTPS_PROXY or not', async () => {
    // node names every module it loads under NODE_DEBUG=module: undici must not be one of them.
    const result = await helperGet({...behindProxy, NODE_DEBUG: 'module'});
    expect(result.code, result.stdout).toBe(0);
    expect(result.stderr).toContain('credential-helper-main.cjs');
    expect(result.stderr).not.toMatch(/node_modules\/undici\//);
  });

  it('NO_PROXY sends a host around the proxy (here to a name only the proxy knows: it fails)', async () => {
    const asked = proxy.asked.length;
    const result = await helperGetAfterExpiry({...behindProxy, NO_PROXY: 'hub.test'});
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('ENOTFOUND');
    expect(proxy.asked.length).toBe(asked);
  });

  it('a proxy variable that is not a URL is refused, named, not quoted (it may hold a password)', async () => {
    const result = await login({...env, HTTPS_PROXY: 'user:s3cret@proxy host:3128'});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('HTTPS_PROXY is not a proxy URL; set it to http://HOST:PORT');
    expect(result.stderr).not.toContain('s3cret');
  });

  it('hub-auth refuses a proxy variable that is not a URL the same way, before it listens', async () => {
    const config = await writeHubAuthConfig(
      {
        dir: join(sandbox.dir, 'bad-proxy'),
        oidcIssuer: idp.issuer,
        registryHost: registry.host,
        signing: await keygen(join(sandbox.dir, 'bad-proxy-keys')),
      },
      await freePort(),
      await freePort(),
    );
    const result = await new Promise<{code: number; stderr: string}>((resolve) => {
      execFile(
        process.execPath,
        [HUB_AUTH_BIN, 'serve', '--config', config],
        {env: {...process.env, https_proxy: 'user:s3cret@proxy host:3128'}},
        (error, _stdout, stderr) => resolve({code: error ? Number(error.code ?? 1) : 0, stderr}),
      );
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('hub-auth: https_proxy is not a proxy URL; set it to http://HOST:PORT');
    expect(result.stderr).not.toContain('s3cret');
  });

  it('loopback is never proxied, whatever NO_PROXY says', async () => {
    const asked = proxy.asked.length;
    const result = await runHub(['images', '--json'], {...behindProxy, HTTP_PROXY: proxy.url, NO_PROXY: 'example.com'});
    expect(result.code, result.stderr).toBe(0);
    // The catalog through the proxy, the registry token from the loopback realm directly.
    expect(proxy.asked.slice(asked)).toContain(registry.host);
    expect(proxy.asked.slice(asked).filter((host) => host.startsWith('127.'))).toEqual([]);
  });
});

/** A company CA and a server certificate it signed for the provider's and the registry's names; returns the CA's file. */
async function privateCa(dir: string): Promise<string> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=hub test company CA',
      '-days',
      '2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    ],
    dir,
  );
  await openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${IDP_NAME}`], dir);
  await writeFile(join(dir, 'server.ext'), `subjectAltName=DNS:${IDP_NAME},DNS:${REGISTRY_NAME}\nextendedKeyUsage=serverAuth\n`);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-extfile',
      'server.ext',
    ],
    dir,
  );
  return join(dir, 'ca.crt');
}
