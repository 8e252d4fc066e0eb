/**
 * `npm run demo`: a complete local hub on loopback, walked through step by step — the test
 * identity provider, hub-auth, a registry that trusts it, and a Docker engine (a private dockerd
 * when none answers) — then login → push → docker rmi → plain docker pull → hub images → logout.
 * With --headless, Chromium signs in as the demo user; otherwise your browser opens.
 */
import {execFile, spawn} from 'node:child_process';
import {delimiter, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {connectEngine} from '../src/docker/engine.js';
import {startBrowser} from '@hub/test-stack/browser';
import {makeImage, startDockerEngine} from '@hub/test-stack/docker-engine';
import {linkHubBins} from '@hub/test-stack/hub-bins';
import {keygen, SERVICE, startHubAuth, TOKEN_ISSUER} from '@hub/test-stack/hub-auth';
import {startIdentityProvider, USERS} from '@hub/test-stack/identity-provider';
import {startKeyring} from '@hub/test-stack/keyring';
import {freePort} from '@hub/test-stack/ports';
import {startRegistry} from '@hub/test-stack/registry';
import {createSandbox} from '@hub/test-stack/sandbox';

const HUB = fileURLToPath(new URL('../bin/run.cjs', import.meta.url));
const headless = process.argv.includes('--headless');
const [user] = USERS as [(typeof USERS)[number]];
const exec = promisify(execFile);

const cleanups: Array<() => Promise<unknown>> = [];
async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  cleanups.length = 0;
}
process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));

function step(text: string): void {
  process.stderr.write(`\n\x1b[1m▶ ${text}\x1b[0m\n`);
}

function run(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  process.stderr.write(`$ ${program === process.execPath ? 'hub' : program} ${args.join(' ')}\n`);
  const argv = program === process.execPath ? [HUB, ...args] : args;
  return new Promise((resolve, reject) => {
    const child = spawn(program, argv, {env, stdio: ['ignore', 'inherit', 'inherit']});
    child.once('error', reject);
    child.once('close', resolve);
  });
}

async function must(what: string, code: Promise<number | null>): Promise<void> {
  if ((await code) !== 0) throw new Error(`${what} failed`);
}

async function main(): Promise<void> {
  const sandbox = await createSandbox('hub-demo');
  cleanups.push(() => sandbox.remove());
  const bin = await linkHubBins(join(sandbox.dir, 'bin'));
  let env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}${delimiter}${process.env.PATH}`,
    HUB_CONFIG_DIR: sandbox.configDir,
    DOCKER_CONFIG: sandbox.dockerConfig,
  };

  if (headless || !process.env.DBUS_SESSION_BUS_ADDRESS) {
    step('Starting a private, unlocked Secret Service (gnome-keyring)');
    const keyring = await startKeyring(sandbox);
    cleanups.push(() => keyring.stop());
    env = {...env, DBUS_SESSION_BUS_ADDRESS: keyring.env.DBUS_SESSION_BUS_ADDRESS};
  }

  step('Starting the identity provider (node-oidc-provider)');
  const idp = await startIdentityProvider();
  cleanups.push(() => idp.stop());
  process.stderr.write(`issuer ${idp.issuer}, client ${idp.clientId}; sign in as ${user.username} / ${user.password}\n`);

  step('Starting hub-auth and a registry that trusts it');
  const signing = await keygen(join(sandbox.dir, 'keys'));
  const registryPort = await freePort();
  const registryHost = `127.0.0.1:${registryPort}`;
  const hubAuth = await startHubAuth({dir: join(sandbox.dir, 'hub-auth'), oidcIssuer: idp.issuer, registryHost, signing});
  cleanups.push(() => hubAuth.stop());
  const registry = await startRegistry(
    join(sandbox.dir, 'registry'),
    {realm: `${hubAuth.url}/token`, service: SERVICE, issuer: TOKEN_ISSUER, rootCertBundle: signing.certificate},
    registryPort,
  );
  cleanups.push(() => registry.stop());
  process.stderr.write(`hub-auth ${hubAuth.url}, registry ${registry.url}\n`);

  try {
    const engine = await connectEngine(env);
    process.stderr.write(`using the Docker engine at ${engine.address.host}\n`);
  } catch {
    step('No Docker engine answers: starting a private dockerd');
    const engine = await startDockerEngine(join(sandbox.dir, 'docker'));
    cleanups.push(() => engine.stop());
    env = {...env, DOCKER_HOST: engine.host};
  }

  let signIn: Promise<unknown> | undefined;
  if (headless) {
    const browser = await startBrowser();
    cleanups.push(() => browser.stop());
    env = {...env, ...browser.env};
    signIn = browser.nextUrl().then((url) => browser.signIn(url, user));
  }

  step(`Logging in to ${registryHost}${headless ? ` (Chromium signs in as ${user.username})` : ''}`);
  const login = run(process.execPath, ['login', registryHost, '--issuer', idp.issuer, '--client-id', idp.clientId], env);
  await signIn;
  await must('login', login);

  step('Making an image locally (docker import) and pushing it with hub');
  await makeImage(env, sandbox.dir, 'demo-app:1.0', 2 * 1024 * 1024);
  await must('hub push', run(process.execPath, ['push', 'demo-app:1.0'], env));

  step('Removing it locally, then pulling it with plain docker (through docker-credential-hub)');
  await exec('docker', ['rmi', `${registryHost}/${user.username}/demo-app:1.0`], {env});
  await must('docker pull', run('docker', ['pull', `${registryHost}/${user.username}/demo-app:1.0`], env));

  step('What the registry holds that you may pull');
  await must('hub images', run(process.execPath, ['images'], env));

  step('Logging out (the provider revokes the session, docker forgets the registry)');
  await must('hub logout', run(process.execPath, ['logout', registryHost], env));
  step('Done');
}

try {
  await main();
} catch (error) {
  process.stderr.write(`demo failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
