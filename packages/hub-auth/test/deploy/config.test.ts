import {NAMESPACE_LISTING, PUSH_LISTING, REPOSITORY_LISTING} from '@hub/protocol/catalog';
import {BACKCHANNEL_LOGOUT_PATH, REGISTRY_NOTIFICATIONS_PATH} from '@hub/protocol/hub-auth-endpoints';
import {tokenRevocationUrl} from '@hub/protocol/identity-token';
import {WEB_PREFIX} from '@hub/protocol/web-paths';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {parse as parseYaml} from 'yaml';
import {loadConfig, type TokenServiceConfig} from '../../src/config.js';
import {configMapText, DEPLOY_DIR, deployText, kubernetesObject, kubernetesObjects} from './deploy-files.js';

/**
 * The shipped configurations start: each goes through hub-auth's own loader (YAML and schema), and
 * what hub-auth, the registry, the proxy and the probes must agree on does agree, in compose and in
 * Kubernetes alike.
 */

const scratch = mkdtempSync(join(tmpdir(), 'hub-deploy-'));
afterAll(() => rmSync(scratch, {recursive: true, force: true}));

/** The ConfigMap's hub-auth.yml, loaded as hub-auth loads its --config file. */
async function loadConfigMap(): Promise<TokenServiceConfig> {
  const file = join(scratch, 'hub-auth.yml');
  writeFileSync(file, configMapText('hub-auth', 'hub-auth.yml'));
  return loadConfig(file);
}

interface RegistryConfig {
  http: {host: string; addr: string; debug?: {addr: string}};
  auth: {token: {realm: string; service: string; issuer: string; rootcertbundle: string}};
  storage: Record<string, unknown>;
}

/** One of distribution's notifications.endpoints. */
interface NotificationEndpoint {
  url: string;
  headers: {Authorization: string[]};
}

interface Compose {
  services: Record<
    string,
    {
      environment?: Record<string, string>;
      volumes?: Array<string | {type: string; source: string; target: string}>;
      ports?: string[];
      healthcheck?: {test: string[]};
      networks?: Record<string, {ipv4_address?: string}> | string[];
      profiles?: string[];
      user?: string;
      command?: string[];
    }
  >;
}

interface Container {
  name: string;
  args?: string[];
  ports: Array<{name: string; containerPort: number}>;
  env?: Array<{name: string; valueFrom?: {secretKeyRef?: {name: string; key: string}}}>;
  readinessProbe?: {httpGet?: {path: string; port: string}};
  livenessProbe?: {httpGet?: {path: string; port: string}};
  volumeMounts: Array<{name: string; mountPath: string}>;
}
interface PodVolume {
  name: string;
  configMap?: {name: string};
  secret?: {secretName: string; items?: Array<{key: string}>};
  persistentVolumeClaim?: {claimName: string};
}
interface Deployment {
  spec: {template: {spec: {containers: Container[]; volumes: PodVolume[]}}};
}

function podOf(name: string): {container: Container; volumes: PodVolume[]} {
  const {spec} = kubernetesObject<Deployment>('Deployment', name);
  const [container] = spec.template.spec.containers;
  if (!container) throw new Error(`Deployment ${name} has no container`);
  return {container, volumes: spec.template.spec.volumes};
}

/** The volume mounted at the folder holding `path`, or at `path` itself. */
function volumeHolding(pod: {container: Container; volumes: PodVolume[]}, path: string): PodVolume | undefined {
  const mount = pod.container.volumeMounts.find((candidate) => candidate.mountPath === path || candidate.mountPath === dirname(path));
  return pod.volumes.find((volume) => volume.name === mount?.name);
}

function portNamed(container: Container, name: string): number | undefined {
  return container.ports.find((port) => port.name === name)?.containerPort;
}

const compose = parseYaml(deployText('compose.yaml')) as Compose;

describe('deploy/hub-auth.yml (compose)', () => {
  it('is a valid hub-auth configuration', async () => {
    const config = await loadConfig(join(DEPLOY_DIR, 'hub-auth.yml'));
    expect(config.service).toBe('registry.example.com');
    expect(config.oidc.audience).toEqual(['https://registry.example.com']);
  });

  it('fails `docker compose up` at once when the introspection secret is missing, instead of a hub-auth that restarts forever', async () => {
    const config = await loadConfig(join(DEPLOY_DIR, 'hub-auth.yml'));
    const source = config.oidc.introspection?.clientSecret;
    expect(source).toMatchObject({env: expect.any(String)});
    const variable = (source as {env: string}).env;
    expect(compose.services['hub-auth']?.environment?.[variable]).toMatch(new RegExp(`^\\$\\{${variable}:\\?.*deploy/\\.env.*\\}$`));
  });

  it('is healthy on /readyz of its monitoring listener, which nothing publishes', async () => {
    const config = await loadConfig(join(DEPLOY_DIR, 'hub-auth.yml'));
    const service = compose.services['hub-auth'];
    expect(service?.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${config.monitoring.port}/readyz`);
    expect(deployText('Dockerfile.hub-auth')).toContain(`http://127.0.0.1:${config.monitoring.port}/readyz`);
    expect(service?.ports).toBeUndefined();
    const published = Object.entries(compose.services)
      .filter(([, candidate]) => candidate.ports)
      .map(([name]) => name);
    expect(published).toEqual(['caddy']);
  });

  it('believes X-Forwarded-For from caddy only, at its fixed address', async () => {
    const config = await loadConfig(join(DEPLOY_DIR, 'hub-auth.yml'));
    const networks = compose.services.caddy?.networks as Record<string, {ipv4_address?: string}>;
    const addresses = Object.values(networks).map((network) => network.ipv4_address);
    expect(config.listen.trustProxy).toEqual(addresses);
  });

  it('keeps the state in the postgres service, reached by a connection string from .env, and no replica writes a volume', async () => {
    const config = await loadConfig(join(DEPLOY_DIR, 'hub-auth.yml'));
    const variable = (config.store.url as {env: string}).env;
    const service = compose.services['hub-auth'];
    // postgres://USER:${POSTGRES_PASSWORD:?…}@SERVICE:5432/DATABASE, the password filled in by compose from .env.
    const [, user, password, host, database] =
      /^postgres:\/\/([^:]+):(\$\{POSTGRES_PASSWORD:\?[^}]*deploy\/\.env[^}]*\})@([^:/]+):5432\/(\w+)$/.exec(
        service?.environment?.[variable] ?? '',
      ) ?? [];
    const postgres = compose.services[host ?? ''];
    expect(postgres?.environment).toEqual({POSTGRES_USER: user, POSTGRES_DB: database, POSTGRES_PASSWORD: password});
    expect(postgres?.healthcheck?.test).toContain('pg_isready');
    expect(postgres?.volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(config.store.dataDir).toBeUndefined();
    // The earlier version's bindings file, only read: imported once into the store.
    expect(service?.volumes).toContain(`hub-auth-state:${dirname(config.accounts.bindingsFile)}:ro`);
    expect(service?.volumes?.filter((volume) => typeof volume === 'string' && !volume.endsWith(':ro'))).toEqual([]);
  });

  it("serves the web hub on the realm's host, where caddy sends /web, with its client secret from .env", async () => {
    const config = await loadConfig(join(DEPLOY_DIR, 'hub-auth.yml'));
    const registry = parseYaml(deployText('registry.yml')) as RegistryConfig;
    expect(config.web.enabled).toBe(true);
    expect(config.web.publicUrl).toBe(new URL(registry.auth.token.realm).origin);
    const variable = (config.web.clientSecret as {env: string}).env;
    expect(compose.services['hub-auth']?.environment?.[variable]).toMatch(new RegExp(`^\\$\\{${variable}:\\?[^}]*deploy/\\.env`));
    expect(deployText('env.example')).toMatch(new RegExp(`^${variable}=$`, 'm'));
    expect(deployText('Caddyfile')).toMatch(new RegExp(`@public path .* ${WEB_PREFIX} ${WEB_PREFIX}/\\*`));
  });

  it('has the registry tell hub-auth of its pushes at its notifications endpoint, with the token hub-auth checks, from .env', async () => {
    const config = await loadConfig(join(DEPLOY_DIR, 'hub-auth.yml'));
    const variable = (config.registryNotifications?.token as {env: string}).env;
    const fromEnv = compose.services['hub-auth']?.environment?.[variable] ?? '';
    expect(fromEnv).toMatch(new RegExp(`^\\$\\{${variable}:\\?[^}]*deploy/\\.env[^}]*\\}$`));
    const [endpoint] = parseYaml(
      compose.services.registry?.environment?.REGISTRY_NOTIFICATIONS_ENDPOINTS ?? '[]',
    ) as NotificationEndpoint[];
    expect(new URL(endpoint!.url).href).toBe(`http://hub-auth:${config.listen.port}${REGISTRY_NOTIFICATIONS_PATH}`);
    expect(endpoint!.headers.Authorization).toEqual([expect.stringMatching(new RegExp(`^Bearer \\$\\{${variable}:\\?`))]);
    expect(deployText('env.example')).toMatch(new RegExp(`^${variable}=$`, 'm'));
  });

  it('has a keygen step that writes the keys as root for the node user, with the service and realm the rest uses', async () => {
    const config = await loadConfig(join(DEPLOY_DIR, 'hub-auth.yml'));
    const registry = parseYaml(deployText('registry.yml')) as RegistryConfig;
    const keygen = compose.services.keygen;
    expect(keygen?.profiles).toEqual(['setup']);
    expect(keygen?.user).toBe('root');
    expect(keygen?.command).toEqual(['--service', config.service, '--realm', registry.auth.token.realm]);
  });
});

describe('the hub-auth image', () => {
  it("is built without keys, .env files or the host's node_modules in its context", () => {
    const ignored = readFileSync(join(DEPLOY_DIR, '../../..', '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.git', 'packages/hub-auth/deploy', '**/.env', '**/*.key', '**/keys']));
    expect(deployText('Dockerfile.hub-auth')).toMatch(/^USER node$/m);
  });
});

describe('deploy/registry.yml and the TLS proxy agree with hub-auth (compose)', () => {
  it('trusts what hub-auth signs and sends clients to it', async () => {
    const config = await loadConfig(join(DEPLOY_DIR, 'hub-auth.yml'));
    const registry = parseYaml(deployText('registry.yml')) as RegistryConfig;
    expect(registry.auth.token.service).toBe(config.service);
    expect(registry.auth.token.issuer).toBe(config.issuer);
    expect(registry.http.host).toBe(`https://${config.registry.host}`);
    expect(compose.services.registry?.volumes).toContainEqual({
      type: 'bind',
      source: './keys/signing.crt',
      target: registry.auth.token.rootcertbundle,
      read_only: true,
      bind: {create_host_path: false},
    });
    expect(config.registry.url).toBe('http://registry:5000');
    expect(registry.http.debug?.addr).toMatch(/^127\.0\.0\.1:/);
  });

  it("routes the realm's host to hub-auth and the registry's host to the registry, on caddy", async () => {
    const config = await loadConfig(join(DEPLOY_DIR, 'hub-auth.yml'));
    const registry = parseYaml(deployText('registry.yml')) as RegistryConfig;
    const caddyfile = deployText('Caddyfile');
    const realm = new URL(registry.auth.token.realm);
    expect(realm.protocol).toBe('https:');
    const site = (host: string): string =>
      caddyfile.slice(caddyfile.indexOf(`\n${host} {`), caddyfile.indexOf('\n}', caddyfile.indexOf(`\n${host} {`)));
    expect(site(realm.host)).toContain(
      `@public path ${realm.pathname} ${tokenRevocationUrl(realm.href).pathname} /${REPOSITORY_LISTING} /${NAMESPACE_LISTING} /${PUSH_LISTING} /.well-known/hub-configuration /.well-known/jwks.json ${BACKCHANNEL_LOGOUT_PATH} ${WEB_PREFIX}`,
    );
    expect(site(realm.host)).not.toContain(REGISTRY_NOTIFICATIONS_PATH);
    expect(site(realm.host)).toContain(`dynamic a hub-auth ${config.listen.port}`);
    expect(site(config.registry.host)).toContain('handle /v2/*');
    expect(site(config.registry.host)).toContain('dynamic a registry 5000');
  });
});

describe('the Kubernetes ConfigMap hub-auth', () => {
  it('is a valid hub-auth configuration', async () => {
    const config = await loadConfigMap();
    expect(config.service).toBe('registry.example.com');
  });

  it('serves the probes on 0.0.0.0 at the ports the Deployment probes: /readyz for readiness, /healthz for liveness', async () => {
    const config = await loadConfigMap();
    const {container} = podOf('hub-auth');
    expect(config.monitoring.host).toBe('0.0.0.0');
    expect(portNamed(container, 'monitoring')).toBe(config.monitoring.port);
    expect(portNamed(container, 'token')).toBe(config.listen.port);
    expect(container.readinessProbe?.httpGet).toEqual({path: '/readyz', port: 'monitoring'});
    expect(container.livenessProbe?.httpGet).toEqual({path: '/healthz', port: 'monitoring'});
  });

  it('is the file the Deployment starts with, its secrets mounted or in the environment', async () => {
    const config = await loadConfigMap();
    const pod = podOf('hub-auth');
    const configFile = pod.container.args?.at(-1) ?? '';
    expect(pod.container.args).toEqual(['serve', '--config', configFile]);
    expect(volumeHolding(pod, configFile)?.configMap?.name).toBe('hub-auth');
    for (const source of [config.signing.key, config.signing.certificate]) {
      expect(volumeHolding(pod, (source as {file: string}).file)?.secret?.secretName).toBe('hub-auth-signing');
    }
    const variable = (config.oidc.introspection?.clientSecret as {env: string}).env;
    expect(pod.container.env?.find((entry) => entry.name === variable)?.valueFrom?.secretKeyRef?.name).toBe('hub-auth');
  });

  it('keeps the state in PostgreSQL through the connection string of the Secret hub-auth-store, mounted as a file; no volume is shared', async () => {
    const config = await loadConfigMap();
    const pod = podOf('hub-auth');
    expect(volumeHolding(pod, (config.store.url as {file: string}).file)?.secret?.secretName).toBe('hub-auth-store');
    expect(config.store.dataDir).toBeUndefined();
    expect(pod.volumes.filter((volume) => volume.persistentVolumeClaim)).toEqual([]);
    expect(kubernetesObjects().filter(({object}) => object.kind === 'PersistentVolumeClaim')).toEqual([]);
  });
  it("has the registry tell hub-auth's Service of its pushes, with the token of the Secret hub-auth checks", async () => {
    const config = await loadConfigMap();
    const variable = (config.registryNotifications?.token as {env: string}).env;
    const secretOf = (container: Container) => container.env?.find((entry) => entry.name === variable)?.valueFrom?.secretKeyRef;
    const hubAuth = podOf('hub-auth').container;
    const registry = podOf('registry').container;
    expect(secretOf(hubAuth)).toEqual({name: 'hub-auth', key: 'notification-token'});
    expect(secretOf(registry)).toEqual(secretOf(hubAuth));
    const listed = (registry.env ?? []) as Array<{name: string; value?: string}>;
    // Kubernetes fills in $(NAME) only from a variable defined before it.
    expect(listed.findIndex((entry) => entry.name === variable)).toBeLessThan(
      listed.findIndex((entry) => entry.name === 'REGISTRY_NOTIFICATIONS_ENDPOINTS'),
    );
    const [endpoint] = parseYaml(
      listed.find((entry) => entry.name === 'REGISTRY_NOTIFICATIONS_ENDPOINTS')?.value ?? '[]',
    ) as NotificationEndpoint[];
    const service = kubernetesObject<{metadata: {name: string}; spec: {ports: Array<{port: number}>}}>('Service', 'hub-auth');
    expect(endpoint!.url).toBe(`http://${service.metadata.name}:${service.spec.ports[0]!.port}${REGISTRY_NOTIFICATIONS_PATH}`);
    expect(endpoint!.headers.Authorization).toEqual([`Bearer $(${variable})`]);
  });
});

describe('the Kubernetes registry and Ingress agree with hub-auth', () => {
  it('trusts what hub-auth signs, and gets only its certificate', async () => {
    const config = await loadConfigMap();
    const registry = parseYaml(configMapText('registry', 'config.yml')) as RegistryConfig;
    expect(registry.auth.token.service).toBe(config.service);
    expect(registry.auth.token.issuer).toBe(config.issuer);
    expect(registry.http.host).toBe(`https://${config.registry.host}`);
    expect(registry.storage).toHaveProperty('s3');
    const pod = podOf('registry');
    expect(volumeHolding(pod, registry.auth.token.rootcertbundle)?.secret).toEqual({
      secretName: 'hub-auth-signing',
      items: [{key: 'signing.crt', path: 'signing.crt'}],
    });
    const service = kubernetesObject<{spec: {ports: Array<{port: number}>}}>('Service', 'registry');
    expect(config.registry.url).toBe(`http://registry:${service.spec.ports[0]?.port}`);
  });

  it("routes the realm's host to hub-auth's public endpoints only and the registry's host to /v2/", async () => {
    const config = await loadConfigMap();
    const registry = parseYaml(configMapText('registry', 'config.yml')) as RegistryConfig;
    const realm = new URL(registry.auth.token.realm);
    type Rule = {host: string; http: {paths: Array<{path: string; backend: {service: {name: string}}}>}};
    const ingress = kubernetesObject<{spec: {tls: Array<{hosts: string[]}>; rules: Rule[]}}>('Ingress', 'hub');
    const routes = Object.fromEntries(
      ingress.spec.rules.map((rule) => [rule.host, rule.http.paths.map((path) => `${path.path} → ${path.backend.service.name}`)]),
    );
    expect(routes).toEqual({
      [config.registry.host]: ['/v2/ → registry'],
      [realm.host]: [
        `${realm.pathname} → hub-auth`,
        `${tokenRevocationUrl(realm.href).pathname} → hub-auth`,
        `/${REPOSITORY_LISTING} → hub-auth`,
        `/${NAMESPACE_LISTING} → hub-auth`,
        `/${PUSH_LISTING} → hub-auth`,
        '/.well-known/hub-configuration → hub-auth',
        '/.well-known/jwks.json → hub-auth',
        `${BACKCHANNEL_LOGOUT_PATH} → hub-auth`,
        `${WEB_PREFIX} → hub-auth`,
      ],
    });
    expect(ingress.spec.tls.flatMap((tls) => tls.hosts).sort()).toEqual([config.registry.host, realm.host].sort());
  });
});
