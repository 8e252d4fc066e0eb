import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {parseChallenge} from '../../../src/registry/challenge.js';
import {anyString, grammarString} from '@hub/test-stack/properties';

/** fuzz cases per property. */
const RUNS = 2000;

const TOKEN_CHARS = "!#$%&'*+.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-";
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const token = fc.string({unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 12});
const ows = fc.constantFrom('', ' ', '  ', '\t', ' \t ');

/** Names that live on Object.prototype once lower-cased; see the `it.fails` property below. */
const PROTOTYPE_NAMES = new Set(['__proto__', 'constructor']);
const paramName = fc.oneof(
  {weight: 4, arbitrary: token},
  {weight: 1, arbitrary: fc.constantFrom('realm', 'service', 'scope', 'error', 'Realm', 'SERVICE', 'charset')},
);
/** Values as a registry might send them: URLs, host names, and anything at all with `"` and `\` in it. */
const paramValue = fc.oneof(
  {weight: 2, arbitrary: anyString(60)},
  {weight: 2, arbitrary: grammarString('ab"\\\\ ,=:/', 40)},
  {weight: 1, arbitrary: fc.webUrl()},
  {weight: 1, arbitrary: fc.constantFrom('', '"', '\\', '\\"', '"\\', 'a,b="c"', 'realm="evil"', ' ', '\\\\\\')},
);

interface Param {
  name: string;
  value: string;
  quoted: boolean;
  before: string;
  around: [string, string];
  after: string;
}

const param: fc.Arbitrary<Param> = fc
  .record({name: paramName, value: paramValue, quoted: fc.boolean(), before: ows, around: fc.tuple(ows, ows), after: ows})
  // Only a token can go unquoted.
  .map((p) => ({...p, quoted: p.quoted || !TOKEN.test(p.value)}));

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

function render(scheme: string, params: readonly Param[], separator: string): string {
  const rendered = params.map((p) => `${p.before}${p.name}${p.around[0]}=${p.around[1]}${p.quoted ? quote(p.value) : p.value}${p.after}`);
  return params.length === 0 ? scheme : `${scheme}${separator}${rendered.join(',')}`;
}

/** What the header means: names are case-insensitive, and the first of a repeated name counts. */
function expectedParams(params: readonly Param[]): Record<string, string> {
  const expected: Record<string, string> = {};
  for (const p of params) {
    const name = p.name.toLowerCase();
    if (!Object.hasOwn(expected, name))
      Object.defineProperty(expected, name, {value: p.value, enumerable: true, writable: true, configurable: true});
  }
  return expected;
}

const wellFormed = fc.record({
  scheme: fc.oneof(token, fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic')),
  separator: fc.constantFrom(' ', '  ', '\t', ' \t'),
  params: fc.array(param, {maxLength: 6}),
});

describe('WWW-Authenticate challenges (property-based)', () => {
  it('never throws on arbitrary headers, and what it returns is made of tokens', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyString(200),
          grammarString('Bearer realm="\\\\,= \t', 200),
          wellFormed
            .chain(({scheme, separator, params}) =>
              fc.tuple(fc.constant(render(scheme, params, separator)), fc.nat(), grammarString('"\\\\,= =,"', 3)),
            )
            .map(([text, at, insert]) => text.slice(0, at % (text.length + 1)) + insert + text.slice((at % (text.length + 1)) + 1)),
          fc.integer({min: 4000, max: 8000}).map((n) => `Bearer realm="${'x'.repeat(n)}"`),
        ),
        (header) => {
          const challenge = parseChallenge(header);
          if (challenge === undefined) return;
          expect(header.length).toBeLessThanOrEqual(4096);
          expect(challenge.scheme).toMatch(TOKEN);
          expect(challenge.scheme).toBe(challenge.scheme.toLowerCase());
          for (const [name, value] of Object.entries(challenge.params)) {
            expect(name).toMatch(TOKEN);
            expect(name).toBe(name.toLowerCase());
            expect(typeof value).toBe('string');
          }
        },
      ),
      {numRuns: RUNS},
    );
  });

  // No clock here: a backtracking blow-up on such headers would not finish before the test's timeout.
  it('answers on long hostile headers', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('Bearer realm="', 'Bearer ', 'Bearer a=b', 'Bearer a="\\', 'Bearer a=', 'B'),
        fc.constantFrom('\\', '\\"', ' ', 'a', ',', 'a=b,', 'a="b",', '\t'),
        fc.integer({min: 500, max: 2040}),
        fc.constantFrom('', '"', '!', '\n', ' x'),
        (start, run, n, end) => {
          const header = (start + run.repeat(n)).slice(0, 4095) + end;
          parseChallenge(header);
        },
      ),
      {numRuns: 300},
    );
  });

  it('returns exactly the parameters of a well-formed challenge (quotes and backslashes escaped)', () => {
    fc.assert(
      fc.property(
        wellFormed.filter(({params}) => params.every((p) => !PROTOTYPE_NAMES.has(p.name.toLowerCase()))),
        ({scheme, separator, params}) => {
          const header = render(scheme, params, separator);
          fc.pre(header.length <= 4096);
          expect(parseChallenge(header)).toEqual({scheme: scheme.toLowerCase(), params: expectedParams(params)});
        },
      ),
      {numRuns: RUNS},
    );
  });

  // Found by this suite: parameters named like Object.prototype members were silently dropped.
  it('returns parameters named like Object.prototype members too', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('__proto__', 'constructor', 'Constructor', '__PROTO__'),
        fc.stringMatching(/^[a-z0-9]{1,8}$/),
        (name, value) => {
          const parsed = parseChallenge(`Bearer realm="r",${name}="${value}"`);
          expect(parsed?.params).toEqual(
            expectedParams([
              {name, value, quoted: true, before: '', around: ['', ''], after: ''},
              {name: 'realm', value: 'r', quoted: true, before: '', around: ['', ''], after: ''},
            ]),
          );
          expect(Object.hasOwn(parsed!.params, name.toLowerCase())).toBe(true);
        },
      ),
      {numRuns: 20, endOnFailure: true},
    );
  });
});
