/**
 * `npm run demo`: a complete local hub on loopback, walked through step by step.
 * Brings up the test identity provider (and a private keyring when this session has no Secret
 * Service), then runs hub login → status → token → logout as a person would.
 * With --headless, Chromium signs in as the demo user; otherwise your browser opens.
 */
import {spawn} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {startBrowser, type TestBrowser} from '../test/e2e/support/browser.js';
import {startIdentityProvider, USERS} from '../test/e2e/support/identity-provider.js';
import {startKeyring, type Keyring} from '../test/e2e/support/keyring.js';
import {createSandbox} from '../test/e2e/support/sandbox.js';

const HUB = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const REGISTRY = '127.0.0.1:5000';
const headless = process.argv.includes('--headless');
const [user] = USERS as [typeof USERS[number]];

const cleanups: Array<() => Promise<unknown>> = [];
async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
}
process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));

function step(text: string): void {
  process.stderr.write(`\n\x1b[1m▶ ${text}\x1b[0m\n`);
}

function hub(args: string[], env: NodeJS.ProcessEnv, capture = false): Promise<{code: number | null; stdout: string}> {
  process.stderr.write(`$ hub ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HUB, ...args], {env, stdio: ['inherit', capture ? 'pipe' : 'inherit', 'inherit']});
    let stdout = '';
    child.stdout?.on('data', (chunk) => (stdout += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({code, stdout}));
  });
}

async function main(): Promise<void> {
  const sandbox = await createSandbox('hub-demo');
  cleanups.push(() => sandbox.remove());
  let env: NodeJS.ProcessEnv = {...process.env, HUB_CONFIG_DIR: sandbox.configDir, DOCKER_CONFIG: sandbox.dockerConfig};

  if (headless || !process.env.DBUS_SESSION_BUS_ADDRESS) {
    step('Starting a private, unlocked Secret Service (gnome-keyring)');
    const keyring: Keyring = await startKeyring(sandbox);
    cleanups.push(() => keyring.stop());
    env = {...env, DBUS_SESSION_BUS_ADDRESS: keyring.env.DBUS_SESSION_BUS_ADDRESS};
  }

  step('Starting the identity provider (node-oidc-provider)');
  const idp = await startIdentityProvider();
  cleanups.push(() => idp.stop());
  process.stderr.write(`issuer ${idp.issuer}, client ${idp.clientId}; sign in as ${user.username} / ${user.password}\n`);

  let browser: TestBrowser | undefined;
  if (headless) {
    browser = await startBrowser();
    cleanups.push(() => browser!.stop());
    env = {...env, ...browser.env};
  }

  step(`Logging in to ${REGISTRY}`);
  const login = hub(['login', REGISTRY, '--issuer', idp.issuer, '--client-id', idp.clientId], env);
  if (browser) {
    process.stderr.write(`(Chromium signs in as ${user.username})\n`);
    await browser.signIn(await browser.nextUrl(), user);
  }
  if ((await login).code !== 0) throw new Error('login failed');

  step('Who is logged in where');
  await hub(['status'], env);

  step('A fresh access token for scripts (not printed here: it is a secret)');
  const {stdout} = await hub(['token', REGISTRY], env, true);
  const userinfo = await fetch(`${idp.issuer}/me`, {headers: {authorization: `Bearer ${stdout.trim()}`}});
  process.stderr.write(`the provider's userinfo endpoint says the token belongs to ${((await userinfo.json()) as {preferred_username: string}).preferred_username}\n`);

  step('Logging out (the provider revokes the session)');
  await hub(['logout', REGISTRY], env);
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
