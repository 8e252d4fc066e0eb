import {createHash, randomUUID} from 'node:crypto';
import {performance} from 'node:perf_hooks';
import {request} from 'undici';
import {submitCredentials} from '@hub/test-stack/browser';
import {SERVICE, TOKEN_ISSUER} from '@hub/test-stack/hub-auth';
import {USERS} from '@hub/test-stack/identity-provider';
import {HOME, imagePath, repositoryPath} from '@hub/protocol/web-paths';
import type {BenchContext} from './context.js';
import {figure, type Figure} from './report.js';
import {hubAuthSigner} from './signer.js';
import {percentile, summarize} from './stats.js';

const BENCHMARK = 'The web hub beside the registry it reads';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** Pushes at once while the bench fills the registry. */
const FILLING_AT_ONCE = 16;
const alice = USERS[0]!;

const digestOf = (body: string | Buffer) => `sha256:${createHash('sha256').update(body).digest('hex')}`;

/**
 * The web hub's pages (issue #24) on a registry of many repositories of several tags each, made
 * here under alice's namespace: the repository list and a repository's page, loaded warm (again
 * within the tag lists' few seconds) and cold (a page or repository not read before), beside the
 * registry's own catalog and tag list read in the same run; and each page's weight. Times are
 * request to last byte over loopback, one request at a time.
 */
export async function benchWebHub(ctx: BenchContext): Promise<Figure[]> {
  const {settings} = ctx;
  const registryUrl = `http://${ctx.registryHost}`;
  const signer = await hubAuthSigner(ctx.stack.signing.key, ctx.stack.signing.certificate);
  const token = (access: Array<{type: string; name: string; actions: string[]}>) => {
    const now = Math.floor(Date.now() / 1000);
    return signer.sign({
      iss: TOKEN_ISSUER,
      sub: alice.username,
      aud: SERVICE,
      exp: now + 3600,
      nbf: now,
      iat: now,
      jti: randomUUID(),
      access,
    });
  };
  const names = Array.from({length: settings.webRepositories}, (_, index) => `alice/web-${String(index).padStart(4, '0')}`);
  ctx.log(`web hub: filling the registry with ${names.length} repositories of ${settings.webTags} tags`);
  await inTurns(names, (name) => fill(registryUrl, name, settings.webTags, token([{type: 'repository', name, actions: ['pull', 'push']}])));

  const cookie = await signInCookie(ctx);
  const home = new URL(HOME, ctx.stack.hubAuth.url).href;
  const page = (path: string) => timed(new URL(path, home).href, {cookie});
  const catalogToken = token([{type: 'registry', name: 'catalog', actions: ['*']}]);
  const samples = settings.webSamples;

  ctx.log('web hub: the registry itself');
  const catalog = await repeat(samples, () => timed(`${registryUrl}/v2/_catalog?n=1000`, {authorization: `Bearer ${catalogToken}`}));
  const tagLists = await repeat(samples, (index) => {
    const name = names[index % names.length]!;
    return timed(`${registryUrl}/v2/${name}/tags/list`, {
      authorization: `Bearer ${token([{type: 'repository', name, actions: ['pull']}])}`,
    });
  });

  ctx.log('web hub: the repository list');
  const pages = Math.max(1, Math.ceil(names.length / 200));
  // Cold: each page of the list once, its repositories' tag lists not read yet.
  const listCold = await repeat(pages, (index) => page(`${HOME}?page=${index + 1}`));
  const listWarm = await repeat(samples, () => page(`${HOME}?page=${pages}`));

  ctx.log("web hub: a repository's page");
  const coldOnes = names.slice(0, Math.min(samples, names.length));
  const repositoryCold = await repeat(coldOnes.length, (index) => page(repositoryPath(coldOnes[index]!)));
  const warmOne = names.at(-1)!;
  await page(repositoryPath(warmOne));
  const repositoryWarm = await repeat(samples, () => page(repositoryPath(warmOne)));

  const weights = await Promise.all(
    [HOME, repositoryPath(warmOne), imagePath(warmOne, 'tag-0')].map((path) => pageWeight(new URL(path, home).href, cookie)),
  );

  const ms = (name: string, values: number[], extra: Partial<Parameters<typeof figure>[0]> = {}) => [
    figure({benchmark: BENCHMARK, name: `${name}: p50`, unit: 'ms', value: summarize(values), ...extra}),
    figure({benchmark: BENCHMARK, name: `${name}: p99`, unit: 'ms', value: summarize([percentile(values, 99)])}),
  ];
  const of = `${names.length} repositories × ${settings.webTags} tags`;
  return [
    ...ms(`registry GET /v2/_catalog?n=1000 (${of})`, catalog),
    ...ms('registry GET /v2/NAME/tags/list', tagLists),
    ...ms('repository list (200 a page), cold: each page once', listCold, {
      baseline: {name: 'registry GET /v2/_catalog?n=1000', value: summarize(catalog)},
    }),
    ...ms('repository list (200 a page), warm', listWarm, {
      baseline: {name: 'registry GET /v2/_catalog?n=1000', value: summarize(catalog)},
    }),
    ...ms(`a repository's page (${settings.webTags} tags), cold: a repository not read before`, repositoryCold, {
      baseline: {name: 'registry GET /v2/NAME/tags/list', value: summarize(tagLists)},
    }),
    ...ms(`a repository's page (${settings.webTags} tags), warm`, repositoryWarm, {
      baseline: {name: 'registry GET /v2/NAME/tags/list', value: summarize(tagLists)},
      target: {op: '<=', value: 2},
    }),
    ...['repository list', "a repository's page", "an image's page"].map((name, index) =>
      figure({
        benchmark: BENCHMARK,
        name: `page weight, HTML + CSS (no script): ${name}`,
        unit: 'bytes',
        value: summarize([weights[index]!]),
        target: {op: '<=', value: 100_000},
      }),
    ),
  ];
}

/** One repository: a config and a layer, and `tags` image manifests that differ by an annotation. */
async function fill(registry: string, name: string, tags: number, token: string): Promise<void> {
  const auth = {authorization: `Bearer ${token}`};
  const config = await putBlob(
    registry,
    name,
    auth,
    Buffer.from(
      JSON.stringify({architecture: 'amd64', os: 'linux', created: new Date().toISOString(), rootfs: {type: 'layers', diff_ids: []}}),
    ),
  );
  const layer = await putBlob(registry, name, auth, Buffer.from(`the layer of ${name}`));
  for (let index = 0; index < tags; index++) {
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {...config, mediaType: 'application/vnd.oci.image.config.v1+json'},
      layers: [{...layer, mediaType: 'application/vnd.oci.image.layer.v1.tar'}],
      annotations: {'org.opencontainers.image.version': String(index)},
    });
    const put = await request(`${registry}/v2/${name}/manifests/tag-${index}`, {
      method: 'PUT',
      headers: {...auth, 'content-type': OCI_MANIFEST},
      body: manifest,
    });
    await put.body.dump();
    if (put.statusCode !== 201) throw new Error(`the registry refused a manifest of ${name}: HTTP ${put.statusCode}`);
  }
}

async function putBlob(
  registry: string,
  name: string,
  auth: Record<string, string>,
  body: Buffer,
): Promise<{digest: string; size: number}> {
  const started = await request(`${registry}/v2/${name}/blobs/uploads/`, {method: 'POST', headers: auth});
  await started.body.dump();
  const location = new URL(String(started.headers.location), registry);
  location.searchParams.set('digest', digestOf(body));
  const put = await request(location, {method: 'PUT', headers: {...auth, 'content-type': 'application/octet-stream'}, body});
  await put.body.dump();
  if (put.statusCode !== 201) throw new Error(`the registry refused a blob of ${name}: HTTP ${put.statusCode}`);
  return {digest: digestOf(body), size: body.length};
}

/** alice's web hub session: signed in through the provider in Chromium, as a person does. */
async function signInCookie(ctx: BenchContext): Promise<string> {
  return ctx.stack.browser.withPage(async (page) => {
    const home = new URL(HOME, ctx.stack.hubAuth.url).href;
    await page.goto(home);
    await page.getByRole('link', {name: 'Sign in'}).click();
    await submitCredentials(page, alice);
    await page.waitForURL(home, {timeout: 30_000});
    const session = (await page.context().cookies()).find((cookie) => cookie.name.endsWith('hub_session'));
    if (!session) throw new Error('the web hub set no session cookie');
    return `${session.name}=${session.value}`;
  });
}

/** Request to last byte, in milliseconds; anything but 200 stops the benchmark. */
async function timed(url: string, headers: Record<string, string>): Promise<number> {
  const started = performance.now();
  const response = await request(url, {headers});
  await response.body.arrayBuffer();
  const elapsed = performance.now() - started;
  if (response.statusCode !== 200) throw new Error(`${url} answered HTTP ${response.statusCode}`);
  return elapsed;
}

/** The page's HTML and its stylesheet, in bytes: the pages load no script. */
async function pageWeight(url: string, cookie: string): Promise<number> {
  const html = Buffer.from(await (await request(url, {headers: {cookie}})).body.arrayBuffer());
  const sheet = /<link rel="stylesheet" href="([^"]+)"/.exec(html.toString())?.[1];
  const css = sheet ? (await (await request(new URL(sheet, url), {headers: {cookie}})).body.arrayBuffer()).byteLength : 0;
  return html.length + css;
}

async function repeat(times: number, once: (index: number) => Promise<number>): Promise<number[]> {
  const values: number[] = [];
  for (let index = 0; index < times; index++) values.push(await once(index));
  return values;
}

async function inTurns<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({length: Math.min(FILLING_AT_ONCE, items.length)}, worker));
}
