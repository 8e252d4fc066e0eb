import {mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import fc from 'fast-check';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {
  readSettings,
  removeRegistrySettings,
  saveRegistrySettings,
  storageKinds,
  type RegistrySettings,
} from '../../../src/config/settings.js';
import {HubError} from '@hub/common/errors';
import {anyString, onlyRejects, withTempDir} from '@hub/test-stack/properties';

/** fuzz cases per property (each is a real file, a lock and maybe an atomic write). */
const RUNS = 500;
const checksModes = process.platform !== 'win32';

const registry = fc.oneof(
  {weight: 4, arbitrary: fc.constantFrom('registry.example.com', 'localhost:5000', '[::1]:5000')},
  {weight: 1, arbitrary: fc.constantFrom('constructor', 'toString', '__proto__', '', 'a.b')},
  {weight: 1, arbitrary: fc.string({maxLength: 12})},
);

const validSettings: fc.Arbitrary<RegistrySettings> = fc.record(
  {
    issuer: fc.webUrl(),
    clientId: fc.string({minLength: 1, maxLength: 12}),
    scopes: fc.constantFrom('openid profile offline_access', 'openid'),
    audience: fc.string({minLength: 1, maxLength: 12}),
    storage: fc.constantFrom(...storageKinds),
    account: fc.string({maxLength: 12}),
    dockerConfig: fc.string({maxLength: 20}),
  },
  {requiredKeys: ['issuer', 'clientId', 'scopes', 'storage']},
);

/** A registry entry: valid, valid with extras, or with one field broken or missing. */
const entry: fc.Arbitrary<unknown> = fc.oneof(
  {weight: 12, arbitrary: validSettings},
  {
    weight: 2,
    arbitrary: fc
      .tuple(validSettings, fc.dictionary(fc.string({maxLength: 6}), fc.jsonValue({maxDepth: 2}), {maxKeys: 2}))
      .map(([s, extra]) => ({...extra, ...s})),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        validSettings,
        fc.constantFrom('issuer', 'clientId', 'scopes', 'audience', 'storage', 'account', 'dockerConfig'),
        fc.option(fc.jsonValue({maxDepth: 1}), {nil: undefined}),
      )
      .map(([s, field, value]) => {
        const broken: Record<string, unknown> = {...s};
        if (value === undefined) delete broken[field];
        else broken[field] = value;
        return broken;
      }),
  },
  {weight: 1, arbitrary: fc.jsonValue({maxDepth: 2})},
);

const settingsLike: fc.Arbitrary<unknown> = fc.oneof(
  {weight: 5, arbitrary: fc.dictionary(registry, entry, {maxKeys: 3}).map((registries) => ({registries}))},
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.dictionary(registry, entry, {maxKeys: 3}),
        fc.dictionary(fc.string({maxLength: 6}), fc.jsonValue({maxDepth: 2}), {maxKeys: 2}),
      )
      .map(([registries, extra]) => ({...extra, registries})),
  },
  {weight: 1, arbitrary: fc.jsonValue({maxDepth: 3})},
);

/** File contents: hub-written JSON, other JSON, broken JSON, random text and random bytes. */
const contents: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    {weight: 6, arbitrary: settingsLike.map((s) => `${JSON.stringify(s, null, 2)}\n`)},
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          settingsLike.map((s) => JSON.stringify(s, null, 2)),
          fc.nat(),
        )
        .map(([text, cut]) => text.slice(0, cut % (text.length + 1))),
    },
    {weight: 1, arbitrary: settingsLike.map((s) => `\ufeff${JSON.stringify(s)}`)},
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        ' ',
        'null',
        '[]',
        '{}',
        '{"registries": []}',
        '{"registries": null}',
        '{"registries": {"r": null}}',
        '{"registries":{},"registries":5}',
      ),
    },
    {weight: 1, arbitrary: anyString(200)},
  )
  .map((text) => Buffer.from(text, 'utf8'))
  .chain((bytes) => fc.oneof({weight: 9, arbitrary: fc.constant(bytes)}, {weight: 1, arbitrary: fc.uint8Array({maxLength: 200})}));

type Operation = {kind: 'save'; registry: string; settings: RegistrySettings} | {kind: 'remove'; registry: string};
const operation: fc.Arbitrary<Operation> = fc.oneof(
  {weight: 3, arbitrary: fc.record({kind: fc.constant('save' as const), registry, settings: validSettings})},
  {weight: 1, arbitrary: fc.record({kind: fc.constant('remove' as const), registry})},
);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-prop-settings-'));
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

/** Own entries only, `__proto__` included. */
function entries(record: Record<string, unknown>): [string, unknown][] {
  return Object.keys(record).map((k) => [k, record[k]]);
}

describe("hub's settings file (property-based)", () => {
  it('readSettings gives a HubError or settings of the shape hub relies on; a file it refuses is never rewritten', async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(contents, {nil: undefined, freq: 20}), operation, async (bytes, op) => {
        const file = join(dir, 'config.json');
        await rm(file, {force: true});
        if (bytes !== undefined) await writeFile(file, bytes);

        const read = await onlyRejects(HubError, () => readSettings(file));
        if ('value' in read) {
          const {registries} = read.value;
          expect(registries).toBeTypeOf('object');
          expect(Array.isArray(registries)).toBe(false);
          for (const [, settings] of entries(registries)) {
            const s = settings as Record<string, unknown>;
            for (const field of ['issuer', 'clientId', 'scopes']) expect(typeof s[field]).toBe('string');
            expect(storageKinds).toContain(s.storage);
            for (const field of ['audience', 'account', 'dockerConfig'])
              expect(s[field] === undefined || typeof s[field] === 'string').toBe(true);
          }
        }

        const change = await onlyRejects(HubError, () =>
          op.kind === 'save' ? saveRegistrySettings(file, op.registry, op.settings) : removeRegistrySettings(file, op.registry),
        );
        const after = await readFile(file).catch(() => undefined);
        expect((await readdir(dir)).filter((name) => name !== 'config.json')).toEqual([]);

        if ('error' in read) {
          // A file hub cannot read is left exactly as it was.
          expect('error' in change).toBe(true);
          expect(after !== undefined && Buffer.compare(after, bytes!) === 0).toBe(true);
          return;
        }
        expect('value' in change).toBe(true);
        if (checksModes) expect((await stat(file)).mode & 0o777).toBe(0o600);
        const now = await readSettings(file);
        const others = (record: Record<string, unknown>) => entries(record).filter(([k]) => k !== op.registry);
        expect(others(now.registries)).toEqual(others(read.value.registries));
        if (op.kind === 'save') expect(now.registries[op.registry]).toEqual(op.settings);
        else expect(Object.hasOwn(now.registries, op.registry)).toBe(false);
      }),
      {numRuns: RUNS},
    );
  }, 60_000);

  // Found by this suite: an extra field nested ~5,000 levels deep made the rewrite throw a RangeError.
  it('gives a HubError (not a RangeError) for a settings file nested too deep to rewrite', async () => {
    await withTempDir('settings-deep', async (folder) => {
      await fc.assert(
        fc.asyncProperty(fc.integer({min: 10_000, max: 50_000}), validSettings, async (depth, settings) => {
          const file = join(folder, 'config.json');
          const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
          await writeFile(file, `{"registries":{"a":{"issuer":"https://x","clientId":"c","scopes":"s","storage":"keychain","x":${deep}}}}`);
          await onlyRejects(HubError, () => readSettings(file));
          await onlyRejects(HubError, () => saveRegistrySettings(file, 'b', settings));
        }),
        {numRuns: 10, endOnFailure: true},
      );
    });
  });

  // Once a divergence: a cheap check (for docker-credential-hub's start-up) accepted what the zod
  // schema refused — an `issuer` that is not a URL, an empty `clientId`/`scopes`/`audience` — and
  // the mistake surfaced later, at discovery or at the provider. Now one description does both.
  it('refuses a settings file whose issuer is not a URL or whose clientId, scopes or audience is empty, naming the field', async () => {
    await withTempDir('settings-shape', async (folder) => {
      await fc.assert(
        fc.asyncProperty(
          validSettings,
          fc.oneof(
            fc.record({field: fc.constant('issuer'), value: fc.constantFrom('x', 'not a url', '', 'id.example.com')}),
            fc.record({field: fc.constantFrom('clientId', 'scopes', 'audience'), value: fc.constant('')}),
          ),
          async (settings, {field, value}) => {
            const file = join(folder, 'config.json');
            await writeFile(file, JSON.stringify({registries: {r: {...settings, [field]: value}}}));
            const read = await onlyRejects(HubError, () => readSettings(file));
            expect('error' in read && read.error).toMatchObject({
              code: 'corrupt_file',
              message: expect.stringContaining(`registries.r.${field}:`),
            });
          },
        ),
        {numRuns: 20, endOnFailure: true},
      );
    });
  });
});
