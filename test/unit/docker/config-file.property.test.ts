import {chmod, mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import fc from 'fast-check';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {addCredentialHelper, dockerConfigFile, readCredentialHelpers, removeCredentialHelper} from '../../../src/docker/config-file.js';
import {normalizeRegistryHost} from '../../../src/config/registry-host.js';
import {HubError} from '@hub/common/errors';
import {anyString, onlyRejects, withTempDir} from '@hub/test-stack/properties';

/** fuzz cases per property (each is a real file, a lock and maybe an atomic write). */
const RUNS = 500;
const checksModes = process.platform !== 'win32';

const registries = ['registry.example.com', 'localhost:5000', '[::1]:5000', 'ghcr.io', 'constructor', 'toString'];
const helpers = ['hub', 'desktop', 'hub-old', ''];
/** Mostly the registries and helper hub uses, so that entries to remove are often there. */
const registryName = fc.oneof(
  {weight: 4, arbitrary: fc.constantFrom(...registries.slice(0, 2))},
  {weight: 1, arbitrary: fc.constantFrom(...registries)},
);
const helperName = fc.oneof({weight: 4, arbitrary: fc.constant('hub')}, {weight: 1, arbitrary: fc.constantFrom(...helpers)});

/** Keys docker uses, and keys that are awkward for a JavaScript object. */
const key = fc.oneof(
  {weight: 3, arbitrary: fc.string({maxLength: 8})},
  {weight: 2, arbitrary: fc.constantFrom('auths', 'credsStore', 'psFormat', 'proxies', 'plugins', 'currentContext', 'credHelpers')},
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      '<script>',
      'a&b',
      '\u2028',
      '',
      'credhelpers',
      'CredHelpers',
    ),
  },
);
const json = fc.jsonValue({maxDepth: 4});
const credHelpers = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.dictionary(
      fc.oneof({weight: 3, arbitrary: registryName}, {weight: 1, arbitrary: fc.string({maxLength: 10})}),
      fc.oneof({weight: 3, arbitrary: helperName}, {weight: 1, arbitrary: fc.string({maxLength: 6})}),
      {maxKeys: 4},
    ),
  },
  {weight: 1, arbitrary: json},
);
const dockerConfig = fc
  .tuple(fc.dictionary(key, json, {maxKeys: 6}), fc.option(credHelpers, {nil: undefined, freq: 4}))
  .map(([config, helpersValue]) => (helpersValue === undefined ? config : {...config, credHelpers: helpersValue}));

/** File contents: docker-written JSON, other JSON, broken JSON, random text and random bytes. */
const contents: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    {weight: 6, arbitrary: dockerConfig.map((c) => JSON.stringify(c, null, '\t'))},
    {weight: 1, arbitrary: dockerConfig.map((c) => JSON.stringify(c))},
    {weight: 1, arbitrary: json.map((v) => JSON.stringify(v))},
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          dockerConfig.map((c) => JSON.stringify(c, null, '\t')),
          fc.nat(),
        )
        .map(([text, cut]) => text.slice(0, cut % (text.length + 1))),
    },
    {weight: 1, arbitrary: dockerConfig.map((c) => `\ufeff${JSON.stringify(c)}`)},
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        ' ',
        '\n\t\r ',
        'null',
        '[]',
        '""',
        '0',
        '{}',
        '{"credHelpers": null}',
        '{"credHelpers": []}',
        '{"credHelpers": {"a": 1}}',
        '{"a":1,"a":2}',
        '{"credHelpers":{},"credHelpers":{"x":"hub"}}',
        '{"__proto__": {"credHelpers": {"x": "y"}}}',
        '{"a": "\\u003c\\u0026\\u003e"}',
        '{"credHelpers": {"registry.example.com": "hub"}}',
      ),
    },
    {weight: 1, arbitrary: anyString(200)},
  )
  .map((text) => Buffer.from(text, 'utf8'))
  .chain((bytes) => fc.oneof({weight: 9, arbitrary: fc.constant(bytes)}, {weight: 2, arbitrary: fc.uint8Array({maxLength: 200})}));

type Operation = {kind: 'add' | 'remove'; registry: string; helper: string} | {kind: 'read'};
const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({kind: fc.constantFrom('add' as const, 'remove' as const), registry: registryName, helper: helperName.filter((h) => h !== '')}),
  fc.constant({kind: 'read' as const}),
);

/** Random contents, or (a third of the time) a docker-written file that has the entry `op` is about. */
function contentsFor(op: Operation): fc.Arbitrary<Uint8Array> {
  if (op.kind === 'read') return contents;
  const withEntry = fc.tuple(dockerConfig, fc.dictionary(registryName, helperName, {maxKeys: 3})).map(([config, others]) => {
    const text = JSON.stringify({...config, credHelpers: {...others, [op.registry]: op.helper}}, null, '\t');
    return Buffer.from(text, 'utf8');
  });
  return fc.oneof({weight: 2, arbitrary: contents}, {weight: 1, arbitrary: withEntry});
}

/** JSON equality: -0 and 0 are one JSON number; own keys only, `__proto__` included. */
function sameJson(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function own(object: Record<string, unknown>, k: string): unknown {
  return Object.hasOwn(object, k) ? object[k] : undefined;
}

/** As docker reads it: a blank file is an empty config. */
function parsedOrUndefined(text: string): unknown {
  if (/^[ \t\r\n]*$/.test(text)) return {};
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-prop-docker-config-'));
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

async function run(op: Operation) {
  if (op.kind === 'read') return readCredentialHelpers(dockerConfigFile(dir));
  if (op.kind === 'add') return addCredentialHelper(dockerConfigFile(dir), op.registry, op.helper);
  return removeCredentialHelper(dockerConfigFile(dir), op.registry, op.helper);
}

/** Writes `bytes` as config.json (or no file), runs `op`, and checks the outcome against the file before and after. */
async function check(bytes: Uint8Array | undefined, mode: number, op: Operation): Promise<void> {
  const file = join(dir, 'config.json');
  await rm(file, {force: true});
  if (bytes !== undefined) {
    await writeFile(file, bytes);
    if (checksModes) await chmod(file, mode);
  }
  const outcome = await onlyRejects(HubError, () => run(op));
  const after = await readFile(file).catch(() => undefined);
  // Nothing left behind: no lock, no temporary file.
  expect((await readdir(dir)).filter((name) => name !== 'config.json')).toEqual([]);

  if ('error' in outcome) {
    expect(after === undefined ? undefined : Buffer.compare(after, bytes!)).toBe(bytes === undefined ? undefined : 0);
    return;
  }
  const unchanged = bytes !== undefined && after !== undefined && Buffer.compare(after, bytes) === 0;
  if (op.kind === 'read' || outcome.value === 'unchanged' || outcome.value === 'absent') {
    // Nothing to change: the file is not touched at all.
    if (bytes === undefined) expect(after).toBeUndefined();
    else expect(unchanged).toBe(true);
  }
  // hub reads as it writes: UTF-8 (invalid bytes become U+FFFD, as Go's decoder also does).
  const textBefore = bytes === undefined ? '' : Buffer.from(bytes).toString('utf8');
  const before = /^[ \t\r\n]*$/.test(textBefore) ? {} : (JSON.parse(textBefore) as Record<string, unknown>);
  const helpersBefore = (own(before, 'credHelpers') ?? {}) as Record<string, string>;

  if (op.kind === 'read') {
    expect(sameJson(outcome.value, helpersBefore)).toBe(true);
    return;
  }
  const afterConfig = (after === undefined ? {} : parsedOrUndefined(after.toString('utf8'))) as Record<string, unknown>;
  expect(afterConfig).toBeTypeOf('object');
  // Every top-level key but credHelpers is as it was, in the order it was; nothing is added.
  const otherKeys = (config: Record<string, unknown>) => Object.keys(config).filter((k) => k !== 'credHelpers');
  expect(otherKeys(afterConfig)).toEqual(otherKeys(before));
  for (const k of otherKeys(before)) expect(sameJson(afterConfig[k], before[k]), `key ${JSON.stringify(k)}`).toBe(true);
  if (!unchanged && after !== undefined && bytes !== undefined && checksModes) expect((await stat(file)).mode & 0o777).toBe(mode);
  if (!unchanged && bytes === undefined && after !== undefined && checksModes) expect((await stat(file)).mode & 0o777).toBe(0o600);

  const helpersAfter = (own(afterConfig, 'credHelpers') ?? {}) as Record<string, string>;
  const othersOf = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([r]) => r !== op.registry));
  expect(sameJson(othersOf(helpersAfter), othersOf(helpersBefore))).toBe(true);
  if (op.kind === 'add') {
    expect(outcome.value).toBe(own(helpersBefore, op.registry) === op.helper ? 'unchanged' : 'added');
    expect(own(helpersAfter, op.registry)).toBe(op.helper);
  } else {
    const wasOurs = own(helpersBefore, op.registry) === op.helper;
    expect(outcome.value).toBe(wasOurs ? 'removed' : 'absent');
    expect(own(helpersAfter, op.registry)).toBe(wasOurs ? undefined : own(helpersBefore, op.registry));
    if (wasOurs && Object.keys(helpersAfter).length === 0) expect(Object.hasOwn(afterConfig, 'credHelpers')).toBe(false);
  }
}

describe("docker's config.json (property-based)", () => {
  it('add/remove/read on random contents: a value or HubError; on error the file is byte-identical; on success only credHelpers changes', async () => {
    await fc.assert(
      fc.asyncProperty(
        operation.chain((op) =>
          fc.tuple(fc.option(contentsFor(op), {nil: undefined, freq: 20}), fc.constantFrom(0o600, 0o644, 0o640), fc.constant(op)),
        ),
        ([bytes, mode, op]) => check(bytes, mode, op),
      ),
      {numRuns: RUNS},
    );
  }, 60_000);

  it('add then remove gives back a docker-written file byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        dockerConfig.filter(
          (c) =>
            !Object.hasOwn(c, 'credHelpers') ||
            (typeof c.credHelpers === 'object' &&
              c.credHelpers !== null &&
              !Array.isArray(c.credHelpers) &&
              Object.values(c.credHelpers).every((v) => typeof v === 'string') &&
              Object.keys(c.credHelpers).length > 0),
        ),
        fc.constantFrom(...registries),
        async (config, registry) => {
          const text = JSON.stringify(config, null, '\t').replace(
            /[<>&\u2028\u2029]/g,
            (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
          );
          const file = join(dir, 'config.json');
          await writeFile(file, text);
          const helpersBefore = (own(config, 'credHelpers') ?? {}) as Record<string, unknown>;
          fc.pre(own(helpersBefore, registry) === undefined);
          await addCredentialHelper(dockerConfigFile(dir), registry);
          await removeCredentialHelper(dockerConfigFile(dir), registry);
          expect(await readFile(file, 'utf8')).toBe(text);
        },
      ),
      {numRuns: 200},
    );
  }, 60_000);

  // Found by this suite (issue #25, item 16): the module promises to write the file back with "the
  // same key order", but a JavaScript object lists integer-like keys first, in numeric order:
  // `{"b": 1, "1": 2}` came back as `{"1": 2, "b": 1, "credHelpers": …}`. Harmless to docker, but it
  // broke the promise (and a diff of the file). config-file.ts now keeps the order read.
  it('keeps the top-level keys in the order they were written, integer-like ones included', async () => {
    await withTempDir('docker-config-order', async (folder) => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.oneof(fc.constantFrom('auths', 'b', 'psFormat', 'x'), fc.nat({max: 99}).map(String)), {
            minLength: 2,
            maxLength: 6,
          }),
          async (keys) => {
            const file = join(folder, 'config.json');
            await writeFile(file, `{${keys.map((k, i) => `"${k}": ${i}`).join(', ')}}`);
            await addCredentialHelper(dockerConfigFile(folder), 'registry.example.com');
            const written = [...(await readFile(file, 'utf8')).matchAll(/^\t"([^"]*)":/gm)].map((m) => m[1]);
            expect(written).toEqual([...keys, 'credHelpers']);
          },
        ),
        {numRuns: 50, endOnFailure: true},
      );
    });
  });

  // Found by this suite: a registry called `__proto__` was never recorded. Such a name cannot reach
  // docker's config: hub takes registry names as docker does, and docker's grammar has no `_`.
  it('never sees a registry called __proto__', () => {
    expect(() => normalizeRegistryHost('__proto__')).toThrow(HubError);
  });

  it('refuses numbers beyond double range instead of rewriting them as null', async () => {
    await withTempDir('docker-config-bignum', async (folder) => {
      await fc.assert(
        fc.asyncProperty(fc.integer({min: 309, max: 10_000}), fc.boolean(), async (exponent, negative) => {
          const file = join(folder, 'config.json');
          const text = `{"a": ${negative ? '-' : ''}1e${exponent}}`;
          await writeFile(file, text);
          await onlyRejects(HubError, () => addCredentialHelper(dockerConfigFile(folder), 'registry.example.com'));
          expect(await readFile(file, 'utf8')).toBe(text);
        }),
        {numRuns: 20, endOnFailure: true},
      );
    });
  });

  // Found by this suite: a value nested ~5,000 levels deep made the rewrite throw a RangeError.
  it('gives a HubError (not a RangeError) for a config.json nested too deep to rewrite', async () => {
    await withTempDir('docker-config-deep', async (folder) => {
      await fc.assert(
        fc.asyncProperty(fc.integer({min: 10_000, max: 50_000}), fc.constantFrom('add', 'remove'), async (depth, kind) => {
          const file = join(folder, 'config.json');
          const text = `{"credHelpers": {"r.example": "hub"}, "a": ${'['.repeat(depth)}${']'.repeat(depth)}}`;
          await writeFile(file, text);
          await onlyRejects(HubError, () =>
            kind === 'add'
              ? addCredentialHelper(dockerConfigFile(folder), 'other.example')
              : removeCredentialHelper(dockerConfigFile(folder), 'r.example'),
          );
        }),
        {numRuns: 10, endOnFailure: true},
      );
    });
  });
});
