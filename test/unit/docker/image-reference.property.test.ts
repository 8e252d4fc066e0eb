import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {formatImageReference, parseImageReference, qualifyReference, type ImageReference} from '../../../src/docker/image-reference.js';
import {HubError} from '@hub/common/errors';
import {namespaceNameProblem} from '../../../packages/hub-auth/src/namespaces.js';
import {anyString, grammarString, onlyThrows} from '@hub/test-stack/properties';

/** fuzz cases per property; see the report in the issue for the totals. */
const RUNS = 2000;

// The grammar, restated independently of the module (distribution/reference's regexp.go).
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const DOMAIN =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$/;

const alnum = fc.string({unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), minLength: 1, maxLength: 8});
const separator = fc.oneof(
  fc.constantFrom('.', '_', '__'),
  fc.integer({min: 1, max: 3}).map((n) => '-'.repeat(n)),
);
const pathComponent = fc
  .tuple(alnum, fc.array(fc.tuple(separator, alnum), {maxLength: 3}))
  .map(([first, rest]) => first + rest.map(([sep, run]) => sep + run).join(''));

const label = fc
  .tuple(
    fc.string({unit: fc.constantFrom(...'abcXYZ019'), minLength: 1, maxLength: 1}),
    fc.option(fc.tuple(fc.string({unit: fc.constantFrom(...'aZ9-'), maxLength: 6}), fc.constantFrom(...'bY8')), {nil: undefined}),
  )
  .map(([first, rest]) => (rest === undefined ? first : first + rest[0] + rest[1]));
const portSuffix = fc.option(
  fc.integer({min: 0, max: 99_999}).map((p) => `:${p}`),
  {nil: ''},
);
const ipv6 = fc
  .array(fc.string({unit: fc.constantFrom(...'0123456789abcdefABCDEF'), maxLength: 4}), {minLength: 2, maxLength: 8})
  .map((groups) => `[${groups.join(':')}]`);
/** Domains docker reads as a domain: with a '.', a port, or `localhost`. */
const domain: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.array(label, {minLength: 2, maxLength: 4}), portSuffix).map(([labels, p]) => labels.join('.') + p),
  fc.tuple(label, fc.integer({min: 0, max: 65_535})).map(([l, p]) => `${l}:${p}`),
  portSuffix.map((p) => `localhost${p}`),
  fc.tuple(ipv6, portSuffix).map(([host, p]) => host + p),
);
const tag = fc.stringMatching(/^\w[\w.-]{0,127}$/);
const hex = (length: number) => fc.string({unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length});
const digest = fc.oneof(
  hex(64).map((h) => `sha256:${h}`),
  hex(96).map((h) => `sha384:${h}`),
  hex(128).map((h) => `sha512:${h}`),
);

const validReference: fc.Arbitrary<ImageReference> = fc
  .record(
    {
      domain: fc.option(domain, {nil: undefined}),
      path: fc.array(pathComponent, {minLength: 1, maxLength: 4}),
      tag: fc.option(tag, {nil: undefined}),
      digest: fc.option(digest, {nil: undefined}),
    },
    {requiredKeys: ['path']},
  )
  .filter(({domain: d, path}) => d !== undefined || path.length === 1 || !(path[0]!.includes('.') || path[0] === 'localhost'))
  .map(({domain: d, path, tag: t, digest: g}) => ({
    ...(d === undefined ? {} : {domain: d}),
    path: path.join('/'),
    ...(t === undefined ? {} : {tag: t}),
    ...(g === undefined ? {} : {digest: g}),
  }))
  .filter((ref) => (ref.domain === undefined ? ref.path.length : ref.domain.length + 1 + ref.path.length) <= 255);

/** Strings over the reference alphabet, often almost valid; plus arbitrary unicode and very long ones. */
const referenceLike = fc.oneof(
  {weight: 4, arbitrary: grammarString('abz09AZ._-/:@[]', 80)},
  {weight: 2, arbitrary: validReference.map(formatImageReference)},
  {
    weight: 2,
    arbitrary: fc
      .tuple(validReference.map(formatImageReference), fc.nat(), grammarString('._-/:@[]A..', 4))
      .map(([text, at, insert]) => text.slice(0, at % (text.length + 1)) + insert + text.slice(at % (text.length + 1))),
  },
  {weight: 1, arbitrary: anyString(300)},
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('a', 'a-', 'a.', 'a__', '0', 'a/', 'a:1', 'sha256:a'),
        fc.integer({min: 1, max: 3000}),
        fc.constantFrom('!', '', '/', ':', '@', 'A', '-'),
      )
      .map(([run, n, end]) => run.repeat(n) + end),
  },
);

function checkGrammar(input: string, ref: ImageReference): void {
  if (ref.domain !== undefined) expect(ref.domain).toMatch(DOMAIN);
  expect(ref.path).not.toBe('');
  for (const component of ref.path.split('/')) expect(component).toMatch(PATH_COMPONENT);
  expect((ref.domain === undefined ? 0 : ref.domain.length + 1) + ref.path.length).toBeLessThanOrEqual(255);
  if (ref.tag !== undefined) expect(ref.tag).toMatch(TAG);
  if (ref.digest !== undefined) expect(ref.digest).toMatch(DIGEST);
  // Nothing is normalised away: the text is exactly the components.
  expect(formatImageReference(ref)).toBe(input);
}

describe('image references (property-based)', () => {
  it('parse ∘ format is the identity on generated valid references', () => {
    fc.assert(
      fc.property(validReference, (ref) => {
        expect(parseImageReference(formatImageReference(ref))).toStrictEqual(ref);
      }),
      {numRuns: RUNS},
    );
  });

  it('any string parses to components that each satisfy the grammar, or throws HubError', () => {
    fc.assert(
      fc.property(referenceLike, (input) => {
        const outcome = onlyThrows(HubError, () => parseImageReference(input));
        if ('value' in outcome) checkGrammar(input, outcome.value);
        else expect((outcome.error as HubError).code).toBe('invalid_reference');
      }),
      {numRuns: RUNS},
    );
  });

  // No clock here: a backtracking blow-up on such input would not finish before the test's timeout.
  it('answers on long adversarial input (no backtracking blow-up)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('a', 'a-', 'a.', 'a_', 'a__', '0-', 'aa/', 'a.b/', 'A'),
        fc.integer({min: 1000, max: 20_000}),
        fc.constantFrom('!', '-', '.', '/', ':', '@', ':x', '@sha256:'),
        (run, n, end) => {
          const input = run.repeat(n) + end;
          onlyThrows(HubError, () => parseImageReference(input));
          onlyThrows(HubError, () => parseImageReference(`localhost/${input}`));
          onlyThrows(HubError, () => parseImageReference(`a:${input}`));
        },
      ),
      {numRuns: 200},
    );
  });

  const registry = fc.oneof(
    {weight: 5, arbitrary: domain},
    // registries docker cannot address, or that try to smuggle a path, tag or digest in
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        'registry',
        'reg.example/evil',
        'evil.com@sha256',
        'reg.example:',
        'REG.example',
        'reg.example:5000/x',
        '..',
        '[::1',
        'a..b',
      ),
    },
    {weight: 1, arbitrary: grammarString('az.:/@[]-', 20)},
  );
  const account = fc.oneof(
    {weight: 5, arbitrary: anyString(80).map((raw) => (namespaceNameProblem(raw) === undefined ? raw : 'alice'))},
    {weight: 2, arbitrary: fc.constantFrom('robots/ci-robot', 'a__b', 'a.b-c')},
    {
      weight: 1,
      arbitrary: fc.constantFrom('', '..', 'a/../b', 'evil.com', 'evil.com/x', 'x:y', 'a@b', 'Alice', 'a/', '/a', 'a'.repeat(300)),
    },
  );

  /** What `hub push` is mostly given: a name or path with no registry in front. */
  const withoutDomain = validReference.map(({domain: _domain, ...rest}) => formatImageReference(rest));

  it('qualifyReference keeps a reference without a domain inside the registry, with no ".." or empty component', () => {
    fc.assert(
      fc.property(fc.oneof(referenceLike, withoutDomain), registry, account, (input, reg, acct) => {
        const parsed = onlyThrows(HubError, () => parseImageReference(input));
        const outcome = onlyThrows(HubError, () => qualifyReference(input, reg, acct));
        if ('error' in parsed) {
          expect('error' in outcome).toBe(true);
          return;
        }
        if ('error' in outcome) {
          // Only a reference rebuilt under the registry can fail, and only with a HubError.
          expect(parsed.value.domain).toBeUndefined();
          return;
        }
        const {remote, remoteName, local, tag: qualifiedTag} = outcome.value;
        expect(local).toBe(input);
        const components = remote.path.split('/');
        expect(components).not.toContain('..');
        expect(components).not.toContain('');
        for (const component of components) expect(component).toMatch(PATH_COMPONENT);
        expect(remoteName).toBe(`${remote.domain}/${remote.path}`);
        if (parsed.value.domain === undefined) {
          expect(remote.domain).toBe(reg);
          expect(remoteName.startsWith(`${reg}/`)).toBe(true);
          // What docker will make of the text hub hands it is the same registry.
          expect(parseImageReference(formatImageReference(remote)).domain).toBe(reg);
          expect(remote.path).toBe(parsed.value.path.includes('/') ? parsed.value.path : `${acct}/${parsed.value.path}`);
        } else {
          expect(remote.domain).toBe(parsed.value.domain);
          expect(remote.path).toBe(parsed.value.path);
        }
        expect(remote.digest).toBe(parsed.value.digest);
        expect(qualifiedTag).toBe(parsed.value.tag ?? (parsed.value.digest === undefined ? 'latest' : ''));
      }),
      {numRuns: RUNS},
    );
  });
});
