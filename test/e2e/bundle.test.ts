import {execFile} from 'node:child_process';
import {readFile} from 'node:fs/promises';
import Module from 'node:module';
import {Script} from 'node:vm';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {describe, expect, it} from 'vitest';

const run = promisify(execFile);
const BUNDLE_DIR = fileURLToPath(new URL('../../dist/bundle/', import.meta.url));

/** The packages a bundle loads as it starts, by their folder under node_modules. */
async function packagesLoadedBy(bundle: string): Promise<string[]> {
  const probe = `require(${JSON.stringify(BUNDLE_DIR + bundle)});
    const names = Object.keys(require.cache).map((file) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(file)?.[1]).filter(Boolean);
    process.stdout.write(JSON.stringify([...new Set(names)]));`;
  const {stdout} = await run(process.execPath, ['-e', probe]);
  return JSON.parse(stdout) as string[];
}

// The bundles are what bin/run.cjs and bin/docker-credential-hub.cjs load (scripts/bundle.ts).
describe('the start-up bundles', () => {
  it('load no package a command loads only when it runs', async () => {
    const later = ['openid-client', 'undici', 'zod', 'write-file-atomic', 'proper-lockfile'];
    for (const bundle of ['cli.cjs', 'start.cjs', 'credential-helper-main.cjs']) {
      const loaded = await packagesLoadedBy(bundle);
      for (const name of later) expect(loaded, `${bundle} loads ${name}`).not.toContain(name);
    }
  });

  it("leaves out dockerode's BuildKit and ssh modules, which hub never calls, so its package needs no dockerode", async () => {
    const text = await readFile(`${BUNDLE_DIR}cli.cjs`, 'utf8');
    expect(text).not.toMatch(/require\("(?:dockerode|docker-modem|@grpc\/grpc-js|protobufjs|ssh2)[/"]/);
    const standIns = [...text.matchAll(/hub's bundle leaves out ([\w/-]+)/g)].map((match) => match[1]!);
    expect(new Set(standIns)).toEqual(new Set(['dockerode/lib/session', 'dockerode/lib/buildkit', 'docker-modem/lib/ssh']));
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {dependencies: object};
    expect(Object.keys(manifest.dependencies)).not.toContain('dockerode');
  });
});

describe("the bundles' code caches", () => {
  it.each(['cli.cjs', 'credential-provider-main.cjs'])(
    'of %s is accepted by this node, so it is not compiled on every run',
    async (name) => {
      const bundle = `${BUNDLE_DIR}${name}`;
      const script = new Script(Module.wrap(await readFile(bundle, 'utf8')), {
        filename: bundle,
        cachedData: await readFile(`${bundle}.v8-cache`),
      });
      expect(script.cachedDataRejected).toBe(false);
    },
  );
});
