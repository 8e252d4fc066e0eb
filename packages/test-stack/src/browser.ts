import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {fileURLToPath} from 'node:url';
import {chromium, type Browser, type Page} from 'playwright-core';
import {closeServer, type TestUser} from './identity-provider.js';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const HOOK = fileURLToPath(new URL('./browser-hook.mjs', import.meta.url));

/**
 * Headless Debian Chromium, reached the way a user's browser is: hub runs HUB_BROWSER with the
 * URL, the hook posts it to this inbox, and the test decides what the person does with it.
 */
export interface TestBrowser {
  /** Environment for hub: HUB_BROWSER and the inbox it posts to. */
  env: NodeJS.ProcessEnv;
  /** The next URL hub asked the browser to open. */
  nextUrl(timeoutMs?: number): Promise<string>;
  /** Signs in on the provider's page; resolves with the text of the page hub's loopback shows. */
  signIn(url: string, user: TestUser): Promise<string>;
  /** Presses Cancel on the provider's login page. */
  deny(url: string): Promise<string>;
  /** Confirms a device-flow code on the provider's page and signs in there; resolves with the final page's text. */
  approveDevice(url: string, user: TestUser): Promise<string>;
  /** Confirms the code, then presses Cancel on the login page. */
  denyDevice(url: string): Promise<string>;
  /**
   * Opens the URL hub gave in a fresh browser, lets `act` click through the provider's own pages,
   * and resolves with the text of the page hub's loopback shows at the end.
   */
  signInWith(url: string, act: (page: Page) => Promise<void>): Promise<string>;
  /** A fresh browser page for `use`, e.g. a provider's device-flow pages. */
  withPage<T>(use: (page: Page) => Promise<T>): Promise<T>;
  /** Loads a URL as is; resolves with its status and text. */
  visit(url: string): Promise<{status: number; text: string}>;
  stop(): Promise<void>;
}

export async function startBrowser(): Promise<TestBrowser> {
  const queue: string[] = [];
  const waiters: Array<(url: string) => void> = [];
  const inbox: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const waiter = waiters.shift();
      if (waiter) waiter(body);
      else queue.push(body);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => inbox.listen(0, '127.0.0.1', resolve));
  const {DBUS_SESSION_BUS_ADDRESS: _bus, ...envWithoutBus} = process.env;
  // Without a session bus Chromium starts no accessibility bus that would outlive it.
  const browser: Browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_FLAGS,
    env: envWithoutBus,
  });

  async function withPage<T>(use: (page: Page) => Promise<T>): Promise<T> {
    const context = await browser.newContext();
    try {
      return await use(await context.newPage());
    } finally {
      await context.close();
    }
  }

  async function signInWith(url: string, fill: (page: Page) => Promise<void>): Promise<string> {
    return withPage(async (page) => {
      await page.goto(url);
      await fill(page);
      await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback/, {timeout: 30_000});
      await page.waitForLoadState('load');
      return page.locator('body').innerText();
    });
  }

  async function onDevicePage(url: string, act: (page: Page) => Promise<void>): Promise<string> {
    return withPage(async (page) => {
      await page.goto(url);
      await page.getByRole('button', {name: 'Continue'}).click();
      await page.getByLabel('Username').waitFor();
      await act(page);
      await page.waitForLoadState('load');
      // includes, not startsWith: a provider mounted under a path (an issuer like /realms/dev) too.
      await page.waitForURL((current) => !current.pathname.includes('/interaction/'), {timeout: 30_000});
      return page.locator('body').innerText();
    });
  }

  return {
    env: {
      HUB_BROWSER: `${process.execPath} ${HOOK}`,
      HUB_TEST_BROWSER_INBOX: `http://127.0.0.1:${(inbox.address() as AddressInfo).port}/open`,
    },
    nextUrl(timeoutMs = 30_000) {
      const ready = queue.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const waiter = (url: string) => {
          clearTimeout(timer);
          resolve(url);
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error('hub did not open the browser'));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    signIn: (url, user) => signInWith(url, (page) => submitCredentials(page, user)),
    deny: (url) => signInWith(url, (page) => page.getByRole('button', {name: 'Cancel'}).click()),
    approveDevice: (url, user) => onDevicePage(url, (page) => submitCredentials(page, user)),
    denyDevice: (url) => onDevicePage(url, (page) => page.getByRole('button', {name: 'Cancel'}).click()),
    signInWith,
    withPage,
    visit: (url) =>
      withPage(async (page) => {
        const response = await page.goto(url);
        return {status: response?.status() ?? 0, text: await page.locator('body').innerText()};
      }),
    async stop() {
      await browser.close();
      await closeServer(inbox);
    },
  };
}

/** The provider's sign-in form, filled in and sent: the same form for the browser and the device flow. */
export async function submitCredentials(page: Page, user: TestUser): Promise<void> {
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', {name: 'Sign in'}).click();
}
