import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {delimiter, join} from 'node:path';
import {registryAudience} from '@hub/protocol/registry-audience';
import {linkHubBins} from '@hub/test-stack/hub-bins';
import {SERVICE, spawnHubAuth, TOKEN_ISSUER} from '@hub/test-stack/hub-auth';
import {E2E_PROGRAMS, assertPrograms} from '@hub/test-stack/prerequisites';
import type {Daemon} from '@hub/test-stack/process';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from '@hub/test-stack/registry-stack';
import {startRegistry, type Registry} from '@hub/test-stack/registry';
import {serviceAccountClaims, workloadSigner} from '@hub/test-stack/workload-issuer';

/** Everything the benchmarks run besides what the end-to-end tests already need. */
export const BENCH_PROGRAMS = [...E2E_PROGRAMS, ...REGISTRY_PROGRAMS, 'docker-credential-secretservice', 'htpasswd', 'taskset'];

export interface BenchSettings {
  smoke: boolean;
  loginRounds: number;
  startupRounds: number;
  /** Runs of each command before the timed ones, so that the first does not pay for a cold disk cache. */
  startupWarmups: number;
  importRounds: number;
  transferRounds: number;
  /** Rounds of restarting hub-auth, logging in and pulling, for the cold paths. */
  coldRounds: number;
  /** The test image's layers, in bytes: several, as real images have, adding up to the image's size. */
  layerBytes: number[];
  /** The long push and pull's image (1 GB in all, the smoke run's tiny), and how many of each. */
  longLayerBytes: number[];
  longTransferRounds: number;
  loadRounds: number;
  /**
   * Rounds of the store's load runs (store-load.ts): more than the others, since its targets are
   * ratios near 0.9 and one 10 s run of the same build varies by ±30% on a shared two-core machine.
   */
  storeLoadRounds: number;
  loadSeconds: number;
  loadWarmupSeconds: number;
  connections: number;
  /** Fresh opaque tokens for the cache-miss measurement, each used for one request. */
  coldRequests: number;
  signSeconds: number;
  /** Rounds of hub-auth starts with each kind of store. */
  storeStartRounds: number;
  /** Sessions stored for the growth figures: few, many, and one account's for the revocation. */
  fewSessions: number;
  manySessions: number;
  crowdSessions: number;
  lookupSeconds: number;
  growthRounds: number;
  /** Revocations at one of three instances, each timed until the other two refuse. */
  revocationRounds: number;
  /** The web hub's registry (web-hub.ts): repositories, tags of each, and requests timed of each kind. */
  webRepositories: number;
  webTags: number;
  webSamples: number;
}

const MB = 1024 * 1024;

/** The cluster whose pods hub-kubelet-credential-provider answers for; its keys reach hub-auth as a file. */
const BENCH_CLUSTER = {
  name: 'cluster',
  issuer: 'https://kubernetes.bench.test',
  robot: '{kubernetes.io.namespace}/{kubernetes.io.serviceaccount.name}',
};

export function benchSettings(smoke: boolean): BenchSettings {
  return smoke
    ? {
        smoke,
        loginRounds: 1,
        startupRounds: 1,
        startupWarmups: 1,
        importRounds: 1,
        transferRounds: 1,
        coldRounds: 1,
        layerBytes: [0.25, 0.25, 0.5, 1].map((n) => n * MB),
        longLayerBytes: [0.25, 0.25].map((n) => n * MB),
        longTransferRounds: 1,
        loadRounds: 1,
        storeLoadRounds: 1,
        loadSeconds: 1,
        loadWarmupSeconds: 0.5,
        connections: 50,
        coldRequests: 20,
        signSeconds: 0.3,
        storeStartRounds: 1,
        fewSessions: 100,
        manySessions: 2000,
        crowdSessions: 100,
        lookupSeconds: 0.3,
        growthRounds: 1,
        revocationRounds: 3,
        webRepositories: 20,
        webTags: 3,
        webSamples: 5,
      }
    : {
        smoke,
        loginRounds: 5,
        startupRounds: 20,
        startupWarmups: 2,
        importRounds: 5,
        transferRounds: 5,
        coldRounds: 5,
        layerBytes: [20, 40, 60, 80].map((n) => n * MB),
        longLayerBytes: [256, 256, 256, 256].map((n) => n * MB),
        longTransferRounds: 3,
        loadRounds: 3,
        storeLoadRounds: 10,
        loadSeconds: 10,
        loadWarmupSeconds: 3,
        connections: 50,
        coldRequests: 500,
        signSeconds: 3,
        storeStartRounds: 5,
        fewSessions: 1000,
        manySessions: 1_000_000,
        crowdSessions: 10_000,
        lookupSeconds: 5,
        growthRounds: 3,
        revocationRounds: 50,
        webRepositories: 1000,
        webTags: 10,
        webSamples: 50,
      };
}

export interface BenchContext {
  settings: BenchSettings;
  stack: RegistryStack;
  /** The sandbox's environment with hub's commands on PATH under their installed names. */
  env: NodeJS.ProcessEnv;
  /** Scratch space inside the sandbox. */
  dir: string;
  /** host:port of the registry behind hub-auth. */
  registryHost: string;
  /** A service-account token of the bench's cluster (pod service account bench/puller), good for an hour: what the kubelet hands its credential provider. */
  podToken: string;
  /**
   * Restarts the registry behind hub-auth on empty storage, on the same address. A push to a
   * fresh repository of a registry that already holds the layers is no transfer: dockerd mounts
   * them from the repository it pushed them to before ("Mounted from …"). Its realm is hub-auth
   * itself, as in a deployment, with nothing of the tests' in between.
   */
  freshRegistry(): Promise<void>;
  /**
   * Stops the registry's hub-auth and starts it again with the same configuration on the same
   * ports, its caches empty; returns as soon as it is spawned, so that the caller can time its
   * way to ready.
   */
  restartHubAuth(): Promise<Daemon>;
  log(message: string): void;
  stop(): Promise<void>;
}

export async function startBench(settings: BenchSettings, log: (message: string) => void): Promise<BenchContext> {
  assertPrograms(BENCH_PROGRAMS);
  log('bringing up the stack: identity provider, keyring, Chromium, hub-auth, registry, dockerd');
  const cluster = await workloadSigner(BENCH_CLUSTER.issuer);
  const keysDir = await mkdtemp(join(tmpdir(), 'hub-bench-keys-'));
  const jwksFile = join(keysDir, 'cluster-jwks.json');
  await cluster.writeJwksFile(jwksFile);
  const stack = await startRegistryStack({web: true, hubAuth: {workloads: {issuers: [{...BENCH_CLUSTER, jwksFile}]}}}).catch(
    async (error: unknown) => {
      await rm(keysDir, {recursive: true, force: true});
      throw error;
    },
  );
  let registry: Registry = stack.registry;
  // stack.stop() stops the hub-auth it started; one started again here is this context's to stop.
  let restartedHubAuth: Daemon | undefined;
  try {
    // Long enough that no helper call refreshes in the middle of a measurement.
    stack.idp.behave({accessTokenTtl: 3600});
    const bin = await linkHubBins(join(stack.sandbox.dir, 'bin'));
    const port = Number(new URL(stack.registry.url).port);
    let generation = 0;
    return {
      settings,
      stack,
      env: {...stack.env, PATH: `${bin}${delimiter}${stack.env.PATH}`},
      dir: stack.sandbox.dir,
      registryHost: stack.registry.host,
      podToken: await cluster.mint(serviceAccountClaims('bench', 'puller'), registryAudience(stack.registry.host), {expiresIn: 3600}),
      async freshRegistry() {
        await registry.stop();
        if (generation > 0) await rm(join(stack.sandbox.dir, `registry-${generation}`), {recursive: true});
        generation += 1;
        registry = await startRegistry(
          join(stack.sandbox.dir, `registry-${generation}`),
          {realm: `${stack.hubAuth.url}/token`, service: SERVICE, issuer: TOKEN_ISSUER, rootCertBundle: stack.signing.certificate},
          port,
        );
      },
      async restartHubAuth() {
        await (restartedHubAuth ?? stack.hubAuth.daemon).stop();
        restartedHubAuth = spawnHubAuth(stack.hubAuth.configFile, join(stack.sandbox.dir, 'hub-auth', 'restarted.log'));
        return restartedHubAuth;
      },
      log,
      async stop() {
        await restartedHubAuth?.stop();
        await registry.stop();
        await stack.stop();
        await rm(keysDir, {recursive: true, force: true});
      },
    };
  } catch (error) {
    await stack.stop();
    await rm(keysDir, {recursive: true, force: true});
    throw error;
  }
}
