import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import fc from 'fast-check';
import {stringify as yamlStringify} from 'yaml';
import {afterAll, beforeAll, describe, expect, it, onTestFinished, vi} from 'vitest';
import {ConfigError, loadConfig, parseConfig, type TokenServiceConfig} from '../../src/config.js';
import {anyString, grammarString, onlyRejects, onlyThrows} from '@hub/test-stack/properties';

/** fuzz cases per property. */
const RUNS = 1000;
/** loadConfig reads a real file each time. */
const FILE_RUNS = 500;

/** A configuration that uses every field (the deploy example, with rules and introspection). */
const base = {
  listen: {host: '0.0.0.0', port: 5001},
  service: 'registry.example.com',
  issuer: 'hub-auth',
  tokenLifetimeSeconds: 300,
  refreshTokens: {enabled: true, lifetimeSeconds: 28_800},
  signing: {
    key: {file: '/etc/hub-auth/keys/signing.key'},
    certificate: {file: '/etc/hub-auth/keys/signing.crt'},
    keyId: 'libtrust',
    x5c: true,
    publish: [{value: '-----BEGIN CERTIFICATE-----'}],
  },
  oidc: {
    issuer: 'https://id.example.com/realms/company',
    audience: ['registry', 'hub'],
    algorithms: ['RS256', 'ES256'],
    clockSkewSeconds: 30,
    usernameClaim: 'preferred_username',
    groupsClaim: 'groups',
    jwksUri: 'https://id.example.com/realms/company/certs',
    introspection: {clientId: 'hub-auth', clientSecret: {env: 'HUB_AUTH_INTROSPECTION_SECRET'}, acceptedClientIds: ['hub-cli']},
    timeoutSeconds: 10,
  },
  client: {clientId: 'hub-cli', scopes: 'openid profile offline_access', audience: 'registry'},
  registry: {host: 'registry.example.com'},
  policy: {
    publicRepositories: ['public/*'],
    rules: [
      {match: {name: 'library/*'}, actions: ['pull'], comment: 'shared'},
      {match: {account: 'admin', group: 'ops', name: '*', type: 'repository', anonymous: false}, actions: ['*']},
    ],
  },
  cacheSize: 10_000,
};

/** Every path into `base`, leaves and inner nodes, array elements included. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const children = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...children.flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
}
const basePaths = pathsOf(base).filter((p) => p.length > 0);
/** A few paths past the ends of arrays and optional fields left out of `base`. */
const extraPaths: (string | number)[][] = [
  ['oidc', 'audience', 2],
  ['signing', 'publish', 1],
  ['policy', 'rules', 2],
  ['policy', 'rules', 0, 'match', 'anonymous'],
  ['oidc', 'introspection', 'clientSecret', 'value'],
  ['signing', 'key', 'env'],
];

/** Any JavaScript value fast-check makes, the awkward kinds (bigint, Map, boxed, sparse…) included. */
function anyValue(maxDepth: number): fc.Arbitrary<unknown> {
  return fc.anything({
    maxDepth,
    withBigInt: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withNullPrototype: true,
    withBoxedValues: true,
    withSparseArray: true,
  });
}

const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  {weight: 3, arbitrary: fc.jsonValue({maxDepth: 2})},
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      undefined,
      null,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -0,
      -1,
      0,
      29,
      30,
      3600,
      3601,
      65_535,
      65_536,
      1.5,
      1e21,
      '',
      ' ',
      'not a url',
      'https://',
      'javascript:alert(1)',
      'HS256',
      'none',
      'RS256',
      'thumbprint',
      true,
      false,
      [],
      {},
      [''],
      ['HS256'],
      ['none', 'RS256'],
      {env: ''},
      {value: 'x', env: 'y'},
      {file: '/etc/x'},
      {path: '/x'},
      new Date(0),
      10n,
    ),
  },
  {
    weight: 1,
    arbitrary: anyValue(2),
  },
);

type Mutation =
  | {kind: 'set'; path: (string | number)[]; value: unknown}
  | {kind: 'delete'; path: (string | number)[]}
  | {kind: 'add'; path: (string | number)[]; value: unknown};

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({kind: fc.constant('set' as const), path: fc.constantFrom(...basePaths, ...extraPaths), value: oddValue}),
  },
  {weight: 2, arbitrary: fc.record({kind: fc.constant('delete' as const), path: fc.constantFrom(...basePaths)})},
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      path: fc
        .tuple(
          fc.constantFrom([], ...basePaths.filter((p) => typeof p.at(-1) === 'string')),
          fc.oneof(fc.string({maxLength: 8}), fc.constantFrom('__proto__', 'constructor', 'Service', 'oidc ', 'toString')),
        )
        .map(([parent, key]) => [...parent, key]),
      value: oddValue,
    }),
  },
);

function apply(config: unknown, m: Mutation): unknown {
  const root = {config};
  let node: Record<string | number, unknown> = root;
  const path: (string | number)[] = ['config', ...m.path];
  for (const [i, key] of path.slice(0, -1).entries()) {
    let next = node[key];
    // Only plain objects and arrays are walked into: an odd value an earlier mutation left there
    // (a typed array, a Date) is replaced, as a YAML file could not hold it either.
    if (next === null || typeof next !== 'object' || !(Array.isArray(next) || Object.getPrototypeOf(next) === Object.prototype)) {
      next = typeof path[i + 1] === 'number' ? [] : {};
      node[key] = next;
    }
    node = next as Record<string | number, unknown>;
  }
  const last = path.at(-1)!;
  if (m.kind === 'delete') delete node[last];
  else Object.defineProperty(node, last, {value: m.value, enumerable: true, writable: true, configurable: true});
  return root.config;
}

const mutatedConfig = fc.array(mutation, {minLength: 1, maxLength: 3}).map((mutations) => ({
  mutations,
  data: mutations.reduce<unknown>((config, m) => apply(config, m), structuredClone(base)),
}));

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** One problem per line: two spaces, a dot-separated field path or "(top level)", a colon. */
const PROBLEM_LINE = /^ {2}(\(top level\)|[A-Za-z][A-Za-z0-9]*(?:\.(?:[A-Za-z][A-Za-z0-9]*|\d+))*): \S/;

function problemPaths(error: ConfigError, source: string): string[] {
  const [head, ...lines] = error.message.split('\n');
  expect(head).toBe(`${source} is not valid:`);
  expect(lines.length).toBeGreaterThan(0);
  // The first line is a problem with its path. A later line that is not one continues the one
  // before: zod quotes an unknown key as it is, so a key with a line break (YAML allows them, and
  // a collection used as a key is stringified over several lines) spans lines.
  expect(lines[0]).toMatch(PROBLEM_LINE);
  return lines
    .filter((line) => PROBLEM_LINE.test(line))
    .map((line) => PROBLEM_LINE.exec(line)![1]!)
    .map((p) => (p === '(top level)' ? '' : p));
}

/** The invariants the rest of hub-auth relies on, for any configuration that is accepted. */
function checkAccepted(config: TokenServiceConfig): void {
  expect(Number.isInteger(config.listen.port) && config.listen.port >= 0 && config.listen.port <= 65_535).toBe(true);
  expect(config.service.length).toBeGreaterThan(0);
  expect(Number.isInteger(config.tokenLifetimeSeconds) && config.tokenLifetimeSeconds >= 30 && config.tokenLifetimeSeconds <= 3600).toBe(
    true,
  );
  expect(config.oidc.algorithms.length).toBeGreaterThan(0);
  for (const algorithm of config.oidc.algorithms) expect(ASYMMETRIC).toContain(algorithm);
  expect(() => new URL(config.oidc.issuer)).not.toThrow();
  expect(Array.isArray(config.oidc.audience) && config.oidc.audience.length > 0).toBe(true);
  for (const audience of config.oidc.audience) expect(typeof audience === 'string' && audience.length > 0).toBe(true);
  for (const source of [config.signing.key, config.signing.certificate, ...config.signing.publish]) {
    expect(Object.keys(source)).toHaveLength(1);
    expect(Object.values(source)[0]).toBeTypeOf('string');
  }
  expect(Number.isFinite(config.oidc.timeoutSeconds)).toBe(true);
  expect(Number.isInteger(config.cacheSize) && config.cacheSize >= 0).toBe(true);
  for (const rule of config.policy.rules ?? []) expect(rule.actions.length).toBeGreaterThan(0);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-prop-hub-auth-'));
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

describe("hub-auth's configuration (property-based)", () => {
  it('the base configuration is valid', () => {
    checkAccepted(parseConfig(base));
  });

  it('parseConfig on random mutations of a valid configuration: a checked value, or a ConfigError naming the field', () => {
    fc.assert(
      fc.property(mutatedConfig, ({mutations, data}) => {
        const outcome = onlyThrows(ConfigError, () => parseConfig(data, 'hub-auth.yml'));
        if ('value' in outcome) {
          checkAccepted(outcome.value);
          return;
        }
        const paths = problemPaths(outcome.error as ConfigError, 'hub-auth.yml');
        // At least one problem names a mutated field, one of its parents, or something inside it.
        const related = (problem: string, m: Mutation) => {
          const changed = m.path.join('.');
          return problem === '' || problem === changed || changed.startsWith(`${problem}.`) || problem.startsWith(`${changed}.`);
        };
        expect(
          paths.some((p) => mutations.some((m) => related(p, m))),
          `${outcome.error.message} for ${JSON.stringify(mutations.map((m) => m.path))}`,
        ).toBe(true);
      }),
      {numRuns: RUNS},
    );
  });

  it('parseConfig on arbitrary values throws only ConfigError', () => {
    fc.assert(
      fc.property(anyValue(3), (data) => {
        const outcome = onlyThrows(ConfigError, () => parseConfig(data));
        if ('error' in outcome) problemPaths(outcome.error as ConfigError, 'the configuration');
        else checkAccepted(outcome.value);
      }),
      {numRuns: RUNS},
    );
  });

  /** YAML text: configurations written out (some mutated), YAML-ish noise, and alias bombs. */
  const aliasBomb = fc.oneof(
    // a: &a [*a, *a, ...]: an alias to the node that holds it
    fc.integer({min: 1, max: 50}).map((n) => `a: &a [${Array(n).fill('*a').join(', ')}]\n`),
    fc.integer({min: 1, max: 50}).map((n) => `service: &s {x: [${Array(n).fill('*s').join(', ')}]}\n`),
    // the billion laughs: each level repeats the previous one k times
    fc.tuple(fc.integer({min: 2, max: 12}), fc.integer({min: 2, max: 20})).map(([levels, k]) => {
      const lines = ['l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
      for (let i = 1; i < levels; i++)
        lines.push(
          `l${i}: &l${i} [${Array(k)
            .fill(`*l${i - 1}`)
            .join(', ')}]`,
        );
      return `${lines.join('\n')}\nservice: *l${levels - 1}\n`;
    }),
    // the same, hidden in a field the schema does read
    fc.integer({min: 2, max: 10}).map((levels) => {
      const lines = ['x0: &x0 [a, a, a, a, a, a, a, a, a, a]'];
      for (let i = 1; i < levels; i++)
        lines.push(
          `x${i}: &x${i} [*x${i - 1}, *x${i - 1}, *x${i - 1}, *x${i - 1}, *x${i - 1}, *x${i - 1}, *x${i - 1}, *x${i - 1}, *x${i - 1}, *x${i - 1}]`,
        );
      const {policy: _policy, ...rest} = base;
      return `${lines.join('\n')}\n${yamlStringify(rest)}policy: {publicRepositories: *x${levels - 1}}\n`;
    }),
    // merge keys, aliases as keys, deep nesting
    fc.constantFrom(
      'base: &b {service: x}\n<<: *b\n',
      '? &k [a]\n: v\n? *k\n: w\n',
      `${'['.repeat(5000)}${']'.repeat(5000)}`,
      `${'- '.repeat(2000)}x\n`,
      `${'{a: '.repeat(3000)}1${'}'.repeat(3000)}`,
    ),
  );
  const yamlText: fc.Arbitrary<string> = fc.oneof(
    {
      weight: 3,
      arbitrary: mutatedConfig
        .map(({data}) => onlyThrows(Error, () => yamlStringify(data)))
        .map((r) => ('value' in r ? String(r.value) : 'service: x')),
    },
    {weight: 1, arbitrary: fc.constant(yamlStringify(base))},
    {weight: 2, arbitrary: aliasBomb},
    {weight: 2, arbitrary: grammarString('ab: -[]{}&*!|>\'"#%@\n ,?<=.0~', 200)},
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constant(yamlStringify(base)), fc.nat(), grammarString(': -[]{}&*!|\'"\n\t', 6))
        .map(([text, at, insert]) => text.slice(0, at % text.length) + insert + text.slice(at % text.length)),
    },
    {weight: 1, arbitrary: anyString(300)},
  );

  it('loadConfig on random YAML text (alias bombs included): a checked value or a ConfigError, quickly', async () => {
    const file = join(dir, 'hub-auth.yml');
    // The yaml package reports warnings (unknown tags, directives) through process.emitWarning; random text has many.
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    onTestFinished(() => warnings.mockRestore());
    await fc.assert(
      fc.asyncProperty(yamlText, async (text) => {
        await writeFile(file, text);
        const started = performance.now();
        const outcome = await onlyRejects(ConfigError, () => loadConfig(file));
        expect(performance.now() - started, 'loadConfig time (ms)').toBeLessThan(2000);
        if ('value' in outcome) {
          checkAccepted(outcome.value);
          return;
        }
        const {message} = outcome.error;
        if (message.startsWith(`${file} is not valid YAML: `)) return; // names the file, and the line and column
        problemPaths(outcome.error as ConfigError, file);
      }),
      {numRuns: FILE_RUNS},
    );
  }, 60_000);
});
