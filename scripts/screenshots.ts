/**
 * `npm run screenshots`: the web hub's pages as the README shows them (docs/web-hub/), made on the
 * test stack as the end-to-end tests make it: alice logs in with hub and pushes two tags of a small
 * labelled image, signs in at the web hub in Chromium, and each page is captured at desktop width
 * in the light scheme; the repository page at phone width in the dark one too.
 */
import {execFile} from 'node:child_process';
import {mkdir} from 'node:fs/promises';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import type {Page} from 'playwright-core';
import {submitCredentials} from '@hub/test-stack/browser';
import {rootfsTarball} from '@hub/test-stack/docker-engine';
import {withHubOnPath} from '@hub/test-stack/hub-bins';
import {runHub} from '@hub/test-stack/hub-cli';
import {USERS} from '@hub/test-stack/identity-provider';
import {startRegistryStack} from '@hub/test-stack/registry-stack';

const OUT = fileURLToPath(new URL('../docs/web-hub/', import.meta.url));
const run = promisify(execFile);
const alice = USERS[0]!;
const DESKTOP = {width: 1280, height: 800};
const PHONE = {width: 390, height: 844};

async function shot(page: Page, name: string, size = DESKTOP, colorScheme: 'light' | 'dark' = 'light'): Promise<void> {
  await page.setViewportSize(size);
  await page.emulateMedia({colorScheme});
  await page.screenshot({path: join(OUT, `${name}.png`), fullPage: true});
  process.stderr.write(`screenshots: ${name}.png\n`);
}

const stack = await startRegistryStack({web: true});
try {
  await mkdir(OUT, {recursive: true});
  const registry = stack.registry.host;
  const {env} = await withHubOnPath(stack.sandbox.dir, stack.env);
  const login = runHub(['login', registry, '--issuer', stack.idp.issuer, '--client-id', stack.idp.clientId], env);
  await stack.browser.signIn(await stack.browser.nextUrl(), alice);
  if ((await login).code !== 0) throw new Error('hub login failed');
  const labels = [
    'LABEL org.opencontainers.image.description="The API server of the shop"',
    'LABEL org.opencontainers.image.source=https://git.example.com/shop/api',
    'LABEL org.opencontainers.image.version=1.4.2',
    'LABEL org.opencontainers.image.licenses=Apache-2.0',
    'ENV PORT=8080 DATABASE_URL=postgres://not-shown',
    'EXPOSE 8080/tcp',
    'CMD ["/bin/api","--serve"]',
  ];
  for (const tag of ['1.4.2', 'latest']) {
    const image = `${registry}/alice/shop-api:${tag}`;
    const tarball = await rootfsTarball(stack.sandbox.dir, image, 2 * 1024 * 1024);
    await run('docker', ['import', ...labels.flatMap((change) => ['--change', change]), tarball, image], {env});
    const pushed = await runHub(['push', image, '-q'], env);
    if (pushed.code !== 0) throw new Error(`hub push failed: ${pushed.stderr}`);
  }
  const home = `${stack.hubAuth.url}/web/`;
  await stack.browser.withPage(async (page) => {
    await page.goto(home);
    await shot(page, 'sign-in');
    await page.getByRole('link', {name: 'Sign in'}).click();
    await submitCredentials(page, alice);
    await page.waitForURL(home, {timeout: 30_000});
    // The registry's notifications of the pushes arrive a moment later.
    for (let tries = 0; tries < 40 && !(await page.locator('main').innerText()).includes('last pushed'); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      await page.goto(home);
    }
    await shot(page, 'repositories');
    await page.goto(`${home}repositories/alice/shop-api`);
    await shot(page, 'repository');
    await shot(page, 'repository-phone-dark', PHONE, 'dark');
    await page.goto(`${home}repositories/alice/shop-api/-/images/1.4.2`);
    await shot(page, 'image');
  });
} finally {
  await stack.stop();
}
