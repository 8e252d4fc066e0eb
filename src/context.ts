import type * as client from 'openid-client';
import type {OpenBrowser} from './auth/browser.js';
import {canOpenBrowser} from './auth/display.js';
import type {Confirm} from './auth/issuer-trust.js';
import type {DiscoveryOptions, SignInSettings} from './auth/oidc.js';
import {hubConfigDir, hubPaths, type HubPaths} from './config/paths.js';
import type {StorageKind} from './config/settings.js';
import {printable} from './io/terminal-text.js';
import {InsecureFileStore} from './store/insecure-file.js';
import {DEFAULT_KEYCHAIN_TIMEOUT_MS, KeychainStore} from './store/keychain.js';
import type {TokenStore} from './store/session.js';

/**
 * Everything a flow needs from the outside world, built once per command. Tests build their own
 * (a memory store, a scripted browser) and hand it to the same flows.
 */
export interface Context {
  env: NodeJS.ProcessEnv;
  paths: HubPaths;
  nowSeconds(): number;
  /**
   * Prose for the person at the terminal: stderr, so stdout stays data. Much of it quotes remote
   * text (issuers, provider and registry errors), so every line loses its control characters here.
   */
  say(line: string): void;
  /** A yes/no question on the terminal; undefined when hub runs without one (scripts, CI). */
  confirm: Confirm;
  /** One of `options`, chosen on the terminal by number or name; undefined without one, or when the answer is neither. */
  choose(question: string, options: readonly string[]): Promise<string | undefined>;
  openBrowser: OpenBrowser;
  /** Whether a browser can be opened here at all (HUB_BROWSER, or a display that is not over SSH). */
  browserAvailable: boolean;
  store(kind: StorageKind): TokenStore;
  /**
   * Makes this process's outgoing HTTP follow the proxy variables, once: a command does it as it
   * starts, docker-credential-hub only when it has to go on the network.
   */
  connect(): Promise<void>;
  discover(settings: SignInSettings, clientSecret?: string, options?: DiscoveryOptions): Promise<client.Configuration>;
}

/** The person's answer, trimmed; undefined when hub runs without a terminal (scripts, CI). */
async function askOnTerminal(question: string): Promise<string | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const {createInterface} = await import('node:readline/promises');
  const terminal = createInterface({input: process.stdin, output: process.stderr});
  try {
    return (await terminal.question(question)).trim();
  } finally {
    terminal.close();
  }
}

export function createContext(write: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Context {
  const say = (line: string) => write(printable(line));
  const paths = hubPaths(hubConfigDir(env));
  const stores = new Map<StorageKind, TokenStore>();
  const keychainTimeout = Number(env.HUB_KEYCHAIN_TIMEOUT_MS) || DEFAULT_KEYCHAIN_TIMEOUT_MS;
  let connected: Promise<void> | undefined;
  return {
    env,
    paths,
    nowSeconds: () => Math.floor(Date.now() / 1000),
    say,
    confirm: async (question) => {
      const answer = await askOnTerminal(question);
      return answer === undefined ? undefined : /^y(es)?$/i.test(answer);
    },
    choose: async (question, options) => {
      const listed = options.map((option, i) => `  ${i + 1}. ${printable(option)}`).join('\n');
      const answer = await askOnTerminal(`${question}\n${listed}\nNumber or name: `);
      if (answer === undefined) return undefined;
      return options.find((option, i) => answer === option || answer === String(i + 1));
    },
    // The browser and OIDC code load only when a command uses them: `hub status` does not.
    openBrowser: async (url) => (await import('./auth/browser.js')).browserOpener(env)(url),
    browserAvailable: canOpenBrowser(env),
    store(kind) {
      let store = stores.get(kind);
      if (!store) {
        store = kind === 'keychain' ? new KeychainStore(keychainTimeout) : new InsecureFileStore(paths.insecureSessions, say);
        stores.set(kind, store);
      }
      return store;
    },
    connect: () =>
      (connected ??= import('@hub/common/net/proxy-environment').then(({honourProxyEnvironment}) => honourProxyEnvironment(env))),
    discover: async (settings, clientSecret, options) => (await import('./auth/oidc.js')).discoverProvider(settings, clientSecret, options),
  };
}
