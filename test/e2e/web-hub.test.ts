import {execFile} from 'node:child_process';
import {createHash, randomBytes} from 'node:crypto';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {promisify} from 'node:util';
import {AxeBuilder} from '@axe-core/playwright';
import type {Page} from 'playwright-core';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {registryAudience} from '@hub/protocol/registry-audience';
import {submitCredentials} from '@hub/test-stack/browser';
import {rootfsTarball} from '@hub/test-stack/docker-engine';
import {withHubOnPath} from '@hub/test-stack/hub-bins';
import {hubAuthCommand, SERVICE} from '@hub/test-stack/hub-auth';
import {runHub} from '@hub/test-stack/hub-cli';
import {closeServer, FORM_CONTENT_TYPE, USERS, type TestUser} from '@hub/test-stack/identity-provider';
import {E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from '@hub/test-stack/registry-stack';

/**
 * The web hub on the real stack: hub-auth serves it (web.enabled), oidc-provider signs people in
 * with the web client, Chromium is the browser, the registry holds what alice pushed with hub.
 * What the pages say is checked against the registry's own manifests and configs.
 */

const run = promisify(execFile);
const [alice, bob] = USERS as [TestUser, TestUser];
const SCRIPT_LABEL = '<script>alert("label")</script>';
const SCRIPT_ANNOTATION = '<script>alert("annotation")</script>';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, 'application/vnd.docker.distribution.manifest.v2+json'].join(', ');

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}
interface ImageManifest {
  config: Descriptor;
  layers: Descriptor[];
}
interface ImageConfig {
  created: string;
  os: string;
  architecture: string;
  history: Array<{created_by?: string}>;
}

const digestOf = (body: Buffer | string) => `sha256:${createHash('sha256').update(body).digest('hex')}`;

describe.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS]))('the web hub', () => {
  let stack: RegistryStack;
  let registry: string;
  let home: string;
  /** What alice pushed with hub, as the registry has it. */
  let pushed: {digest: string; manifest: ImageManifest; config: ImageConfig};
  let annotatedDigest: string;
  /** hub's environment, logged in as alice. */
  let hubEnv: NodeJS.ProcessEnv;

  /** A registry token from hub-auth for `user`'s provider token, as docker gets one. */
  async function registryToken(user: TestUser, scope: string): Promise<string> {
    const accessToken = await stack.idp.issueOpaqueToken(user.username, 600, registryAudience(registry));
    const answer = await fetch(`${stack.hubAuth.url}/token`, {
      method: 'POST',
      headers: {'content-type': FORM_CONTENT_TYPE},
      body: new URLSearchParams({
        grant_type: 'password',
        username: user.username,
        password: accessToken,
        service: SERVICE,
        client_id: 'docker',
        scope,
      }),
    });
    expect(answer.status).toBe(200);
    return ((await answer.json()) as {access_token: string}).access_token;
  }

  const fromRegistry = async (path: string, token: string, accept = MANIFEST_ACCEPT) => {
    const answer = await fetch(`${stack.registry.url}${path}`, {headers: {authorization: `Bearer ${token}`, accept}});
    expect(answer.status, path).toBe(200);
    return Buffer.from(await answer.arrayBuffer());
  };

  async function putManifest(repository: string, tag: string, token: string, mediaType: string, manifest: object): Promise<Descriptor> {
    const body = JSON.stringify(manifest);
    const answer = await fetch(`${stack.registry.url}/v2/${repository}/manifests/${tag}`, {
      method: 'PUT',
      headers: {authorization: `Bearer ${token}`, 'content-type': mediaType},
      body,
    });
    expect(answer.status, await answer.text()).toBe(201);
    return {mediaType, digest: digestOf(body), size: Buffer.byteLength(body)};
  }

  async function putBlob(repository: string, token: string, body: Buffer): Promise<Descriptor> {
    const digest = digestOf(body);
    const started = await fetch(`${stack.registry.url}/v2/${repository}/blobs/uploads/`, {
      method: 'POST',
      headers: {authorization: `Bearer ${token}`},
    });
    expect(started.status).toBe(202);
    const location = new URL(started.headers.get('location')!, stack.registry.url);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: {authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream'},
      body,
    });
    expect(put.status).toBe(201);
    return {mediaType: 'application/octet-stream', digest, size: body.length};
  }

  beforeAll(async () => {
    stack = await startRegistryStack({web: true});
    registry = stack.registry.host;
    home = `${stack.hubAuth.url}/web/`;
    const {env} = await withHubOnPath(stack.sandbox.dir, stack.env);
    hubEnv = env;
    // alice logs in with hub and pushes an image whose config has a label with a script in it, an env secret and a port.
    const login = runHub(['login', registry, '--issuer', stack.idp.issuer, '--client-id', stack.idp.clientId], env);
    await stack.browser.signIn(await stack.browser.nextUrl(), alice);
    expect((await login).code).toBe(0);
    const image = `${registry}/alice/web-demo:v1`;
    const changes = [
      `LABEL org.example.note=${JSON.stringify(SCRIPT_LABEL)}`,
      'ENV SECRET_TOKEN=do-not-show-this',
      'EXPOSE 8080/tcp',
      'CMD ["/bin/app","--serve"]',
    ];
    await run(
      'docker',
      ['import', ...changes.flatMap((change) => ['--change', change]), await rootfsTarball(stack.sandbox.dir, image), image],
      {env},
    );
    const push = await runHub(['push', image], env);
    expect(push.code, push.stderr).toBe(0);

    const token = await registryToken(alice, 'repository:alice/web-demo:pull,push');
    const manifestBody = await fromRegistry('/v2/alice/web-demo/manifests/v1', token);
    const manifest = JSON.parse(manifestBody.toString()) as ImageManifest & {mediaType: string};
    const config = JSON.parse(
      (await fromRegistry(`/v2/alice/web-demo/blobs/${manifest.config.digest}`, token, '*/*')).toString(),
    ) as ImageConfig;
    pushed = {digest: digestOf(manifestBody), manifest, config};
    // The same image as an OCI manifest with annotations (one with a script), and an index of both as two platforms.
    const annotated = await putManifest('alice/web-demo', 'annotated', token, OCI_MANIFEST, {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: manifest.config,
      layers: manifest.layers,
      annotations: {'org.opencontainers.image.description': SCRIPT_ANNOTATION, 'org.opencontainers.image.version': '1.2.3'},
    });
    annotatedDigest = annotated.digest;
    await putManifest('alice/web-demo', 'multi', token, OCI_INDEX, {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {mediaType: manifest.mediaType, digest: pushed.digest, size: manifestBody.length, platform: {os: 'linux', architecture: 'amd64'}},
        {...annotated, platform: {os: 'linux', architecture: 'arm64', variant: 'v8'}},
      ],
    });
    // An image of its own for the deletion test, named by one tag.
    await putManifest('alice/web-demo', 'to-delete', token, OCI_MANIFEST, {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: manifest.config,
      layers: manifest.layers,
      annotations: {'org.example.purpose': 'deleted by the web hub test'},
    });
    // A signature of v1 as cosign tags it, and an SBOM in an OCI 1.1 fallback referrers index.
    const signed = pushed.digest.replace(':', '-');
    await putManifest('alice/web-demo', `${signed}.sig`, token, OCI_MANIFEST, {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: manifest.config,
      layers: manifest.layers,
    });
    await putManifest('alice/web-demo', signed, token, OCI_INDEX, {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{...annotated, artifactType: 'application/spdx+json'}],
    });
    // bob has a repository of his own, which alice may not pull.
    const bobToken = await registryToken(bob, 'repository:bob/private-tool:pull,push');
    const bobConfig = await putBlob(
      'bob/private-tool',
      bobToken,
      Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', rootfs: {type: 'layers', diff_ids: []}})),
    );
    const bobLayer = await putBlob('bob/private-tool', bobToken, randomBytes(512));
    await putManifest('bob/private-tool', 'v1', bobToken, OCI_MANIFEST, {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {...bobConfig, mediaType: 'application/vnd.oci.image.config.v1+json'},
      layers: [{...bobLayer, mediaType: 'application/vnd.oci.image.layer.v1.tar'}],
    });
  });
  afterAll(() => stack?.stop());

  /** `user` signs in at the web hub through the provider's page, in a fresh browser; `use` goes on from the repositories page. */
  async function signedIn<T>(user: TestUser, use: (page: Page) => Promise<T>): Promise<T> {
    return stack.browser.withPage(async (page) => {
      const first = await page.goto(home);
      expect(first?.status()).toBe(401);
      await page.getByRole('link', {name: 'Sign in'}).click();
      await submitCredentials(page, user);
      await page.waitForURL(home, {timeout: 30_000});
      return use(page);
    });
  }

  /** axe-core finds no violation, and the page with its stylesheet weighs at most 100 kB (it has no script). */
  async function expectAccessible(page: Page): Promise<void> {
    const {violations} = await new AxeBuilder({page}).analyze();
    expect(violations.map((violation) => `${violation.id}: ${violation.help}`)).toEqual([]);
    const html = await (await page.request.get(page.url())).body();
    const style = await (
      await page.request.get(new URL((await page.locator('link[rel=stylesheet]').getAttribute('href'))!, page.url()).href)
    ).body();
    expect(html.length + style.length).toBeLessThanOrEqual(100_000);
  }

  it("alice signs in through the provider and sees her repository, not bob's", async () => {
    await signedIn(alice, async (page) => {
      await expect(page.getByRole('heading', {name: 'Repositories you may pull'}).isVisible()).resolves.toBe(true);
      await expect(page.getByRole('link', {name: 'alice/web-demo'}).count()).resolves.toBe(1);
      expect(await page.locator('main').innerText()).not.toContain('bob/private-tool');
      // The count is the registry's own tag list, read with a token of alice's.
      const token = await registryToken(alice, 'repository:alice/web-demo:pull');
      const {tags} = JSON.parse((await fromRegistry('/v2/alice/web-demo/tags/list', token, 'application/json')).toString()) as {
        tags: string[];
      };
      // Signature and referrer tags (sha256-<hex>…) name no image of their own.
      const images = tags.filter((tag) => !/^sha256-[0-9a-f]{64}/.test(tag));
      expect(images.length).toBeLessThan(tags.length);
      await expect(page.getByRole('listitem').filter({hasText: 'alice/web-demo'}).innerText()).resolves.toContain(`${images.length} tags`);
      const cookies = await page.context().cookies();
      expect(cookies.map(({name, httpOnly, sameSite}) => ({name, httpOnly, sameSite}))).toContainEqual({
        name: 'hub_session',
        httpOnly: true,
        sameSite: 'Lax',
      });
      await expectAccessible(page);
    });
  });

  it("her repository shows each tag's digest, compressed size, platform and created time as the registry says, and the pull commands", async () => {
    await signedIn(alice, async (page) => {
      await page.getByRole('link', {name: 'alice/web-demo'}).click();
      const v1 = page.locator('section', {has: page.getByRole('heading', {name: 'v1', exact: true})});
      const text = await v1.innerText();
      const size = pushed.manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
      expect(text).toContain(pushed.digest);
      expect(text).toContain(`(${size} bytes)`);
      expect(text).toContain(`${pushed.config.os}/${pushed.config.architecture}`);
      expect(text).toContain(`${pushed.config.created.slice(0, 19).replace('T', ' ')} UTC`);
      await v1.getByText('Pull commands').click();
      for (const command of [`hub pull ${registry}/alice/web-demo:v1`, `docker pull ${registry}/alice/web-demo@${pushed.digest}`])
        await expect(v1.getByText(command, {exact: true}).isVisible()).resolves.toBe(true);
      expect(text).toContain('Attached: signature, more on the image page');
      await expect(page.locator('main').innerText()).resolves.toContain(
        `You may pull and push here: hub push ${registry}/alice/web-demo:TAG`,
      );
      await expect(page.getByRole('heading', {name: `${pushed.digest.replace(':', '-')}.sig`}).count()).resolves.toBe(0);
      const multi = await page.locator('section', {has: page.getByRole('heading', {name: 'multi', exact: true})}).innerText();
      expect(multi).toContain('linux/amd64');
      expect(multi).toContain('linux/arm64/v8');
      await expectAccessible(page);
      // The tags filtered by name, through the page's own form.
      await page.getByLabel('Filter tags').fill('mult');
      await page.getByRole('button', {name: 'Show'}).click();
      await page.waitForURL(/\?q=mult/);
      await expect(page.getByRole('heading', {name: 'multi', exact: true}).count()).resolves.toBe(1);
      await expect(page.getByRole('heading', {name: 'v1', exact: true}).count()).resolves.toBe(0);
    });
  });

  it('an image shows its layers, history, command, ports and labels, env names only; a <script> in a label or annotation is text', async () => {
    await signedIn(alice, async (page) => {
      await page.goto(`${home}repositories/alice/web-demo/-/images/v1`);
      const main = await page.locator('main').innerText();
      for (const layer of pushed.manifest.layers) expect(main).toContain(layer.digest);
      expect(main).toContain('["/bin/app","--serve"]');
      expect(main).toContain('8080/tcp');
      expect(main).toContain('SECRET_TOKEN');
      expect(main).not.toContain('do-not-show-this');
      expect(main).toContain(pushed.config.history.at(-1)?.created_by ?? '');
      await expect(page.getByText(SCRIPT_LABEL, {exact: true}).isVisible()).resolves.toBe(true);
      const attached = await page.locator('section', {has: page.getByRole('heading', {name: 'Signatures and SBOMs'})}).innerText();
      expect(attached).toContain(`signature: ${pushed.digest.replace(':', '-')}.sig`);
      expect(attached).toMatch(new RegExp(`SBOM \\(application/spdx\\+json\\):\\s*${annotatedDigest}`));
      await expectAccessible(page);

      await page.goto(`${home}repositories/alice/web-demo/-/images/annotated`);
      await expect(page.getByText(SCRIPT_ANNOTATION, {exact: true}).isVisible()).resolves.toBe(true);
      expect(await page.locator('main').innerText()).toMatch(/Description\s+<script>/);
      expect(await page.locator('script').count()).toBe(0);

      await page.goto(`${home}repositories/alice/web-demo/-/images/multi`);
      await page.getByRole('link', {name: 'linux/arm64/v8'}).click();
      expect(await page.locator('main').innerText()).toContain(annotatedDigest);
    });
  });

  it("hub open opens an image's page through the browser hook, on the web hub its token service names", async () => {
    const opened = await runHub(['open', 'web-demo:v1'], hubEnv);
    expect(opened.code, opened.stderr).toBe(0);
    const url = await stack.browser.nextUrl();
    expect(url).toBe(`${home}repositories/alice/web-demo/-/images/v1`);
    expect(opened.stderr).toContain(`Opened ${url} in your browser.`);
    await signedIn(alice, async (page) => {
      expect((await page.goto(url))?.status()).toBe(200);
      await expect(page.locator('main').innerText()).resolves.toContain(pushed.digest);
    });
  });

  it("the activity shows alice's push by alice after a real docker push, and the list its last push", async () => {
    const image = `${registry}/alice/web-demo:docker-pushed`;
    await run('docker', ['tag', `${registry}/alice/web-demo:v1`, image], {env: hubEnv});
    // Plain docker, through the credential helper hub login set up.
    const pushed = await run('docker', ['push', image], {env: hubEnv});
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
    expect(digest, pushed.stdout).toBeDefined();
    await signedIn(alice, async (page) => {
      // The registry sends its notifications a moment after the push.
      await expect
        .poll(
          async () => {
            await page.goto(`${home}repositories/alice/web-demo`);
            return page
              .getByRole('row')
              .filter({hasText: 'docker-pushed'})
              .innerText()
              .catch(() => '');
          },
          {timeout: 15_000, interval: 250},
        )
        .toMatch(new RegExp(`pushed\\s+docker-pushed\\s+${digest}\\s+alice`));
      await expectAccessible(page);
      await page.goto(home);
      await expect(page.getByRole('listitem').filter({hasText: 'alice/web-demo'}).innerText()).resolves.toMatch(
        /last pushed .* UTC by alice/,
      );
    });
    // hub images shows the same: who last pushed the tag, and when.
    const listed = await runHub(['images', 'web-demo', '--json'], hubEnv);
    expect(listed.code, listed.stderr).toBe(0);
    const {repositories} = JSON.parse(listed.stdout) as {repositories: Array<{pushes?: Record<string, {digest: string; by: string}>}>};
    expect(repositories[0]?.pushes?.['docker-pushed']).toMatchObject({digest, by: 'alice'});
  });

  it("her namespace's page says who may do what there, as the policy says, and lists her repository", async () => {
    await signedIn(alice, async (page) => {
      await page.getByRole('link', {name: 'alice', exact: true}).click();
      await expect(page.getByRole('heading', {name: 'alice', level: 1}).isVisible()).resolves.toBe(true);
      const rules = await page.locator('table').innerText();
      expect(rules).toMatch(/the account alice\s+pull, push and delete\s+all under alice\//);
      await expect(page.getByRole('link', {name: 'alice/web-demo'}).count()).resolves.toBe(1);
      await expectAccessible(page);
    });
    await signedIn(bob, async (page) => {
      expect((await page.goto(`${home}namespaces/alice`))?.status()).toBe(404);
    });
  });

  it('alice deletes a tag after a confirmation that says what goes with it; it is gone from the registry, and a post from elsewhere deletes nothing', async () => {
    await signedIn(alice, async (page) => {
      await page.goto(`${home}repositories/alice/web-demo`);
      await page.getByRole('link', {name: 'Delete to-delete…'}).click();
      await expect(page.locator('main').innerText()).resolves.toContain('only this tag names it');
      await expectAccessible(page);
      // The same form, posted from another site: refused, and the tag stays.
      const form = {
        csrf: await page.locator('main input[name=csrf]').inputValue(),
        digest: await page.locator('main input[name=digest]').inputValue(),
      };
      const forged = await page.request.post(page.url(), {
        form,
        headers: {origin: 'https://evil.example', 'sec-fetch-site': 'cross-site'},
        maxRedirects: 0,
      });
      expect(forged.status()).toBe(403);
      await page.getByRole('button', {name: 'Yes, delete it'}).click();
      await page.waitForURL(`${home}repositories/alice/web-demo`);
      await expect(page.getByRole('heading', {name: 'to-delete', exact: true}).count()).resolves.toBe(0);
    });
    const token = await registryToken(alice, 'repository:alice/web-demo:pull');
    const gone = await fetch(`${stack.registry.url}/v2/alice/web-demo/manifests/to-delete`, {
      headers: {authorization: `Bearer ${token}`, accept: MANIFEST_ACCEPT},
    });
    expect(gone.status).toBe(404);
  });

  it("bob gets the same 404 for alice's repository as for one that does not exist", async () => {
    await signedIn(bob, async (page) => {
      expect(await page.locator('main').innerText()).toContain('bob/private-tool');
      const hers = await page.goto(`${home}repositories/alice/web-demo`);
      const hersText = await page.locator('main').innerText();
      const none = await page.goto(`${home}repositories/bob/does-not-exist`);
      expect([hers?.status(), none?.status()]).toEqual([404, 404]);
      expect(await page.locator('main').innerText()).toBe(hersText);
      await expectAccessible(page);
    });
  });

  it('a sign-out posted from another site is refused, and she stays signed in', async () => {
    const other: Server = createServer((_request, response) =>
      response.end(`<!doctype html><form method="post" action="${home}sign-out"><button>Win a prize</button></form>`),
    );
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      await signedIn(alice, async (page) => {
        // localhost is another site than 127.0.0.1, where hub-auth is.
        await page.goto(`http://localhost:${(other.address() as AddressInfo).port}/`);
        const [refused] = await Promise.all([
          page.waitForResponse(`${home}sign-out`),
          page.getByRole('button', {name: 'Win a prize'}).click(),
        ]);
        expect(refused.status()).toBe(403);
        expect((await page.goto(home))?.status()).toBe(200);
      });
    } finally {
      await closeServer(other);
    }
  });

  it('sign-out ends the session here and at the provider, and lands on the sign-in page', async () => {
    await signedIn(alice, async (page) => {
      await page.getByRole('button', {name: 'Sign out'}).click();
      await page.getByRole('button', {name: 'Yes, sign me out'}).click();
      await page.waitForURL(home, {timeout: 30_000});
      await expect(page.getByRole('heading', {name: 'Sign in'}).isVisible()).resolves.toBe(true);
      await expectAccessible(page);
      // Signed out at the provider too: signing in asks for the password again.
      await page.getByRole('link', {name: 'Sign in'}).click();
      await expect(page.getByLabel('Password').isVisible()).resolves.toBe(true);
    });
  });

  it("the operator's revoke of her account ends her web session with her identity tokens", async () => {
    await signedIn(alice, async (page) => {
      const revoked = await hubAuthCommand(['revoke', '--account', alice.username, '--config', stack.hubAuth.configFile]);
      expect(revoked.code, revoked.stderr).toBe(0);
      expect((await page.goto(`${home}repositories/alice/web-demo`))?.status()).toBe(401);
      await expect(page.getByRole('heading', {name: 'Sign in'}).isVisible()).resolves.toBe(true);
    });
  });

  it('a back-channel logout from the provider (she is disabled there) ends her web session', async () => {
    await signedIn(alice, async (page) => {
      await stack.idp.disablePerson(alice.username);
      expect((await page.goto(home))?.status()).toBe(401);
      await expect(page.getByRole('heading', {name: 'Sign in'}).isVisible()).resolves.toBe(true);
    });
  });

  // Last: the registry stays down.
  it('the registry down: a repository page says so (503), with no stack trace', async () => {
    await signedIn(bob, async (page) => {
      await stack.registry.stop();
      const answer = await page.goto(`${home}repositories/bob/private-tool`);
      expect(answer?.status()).toBe(503);
      const main = await page.locator('main').innerText();
      expect(main).toContain('The registry cannot be reached');
      expect(main).not.toMatch(/\bat .*\.(js|ts):\d+/);
      await expectAccessible(page);
    });
  });
});
