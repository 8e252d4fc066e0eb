/**
 * Shared pieces of the property-based tests (fast-check). Not a test file itself: vitest's unit
 * project only collects `*.test.ts`.
 */
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import fc from 'fast-check';

/** Runs `fn`; a thrown error must be an instance of `allowed`, anything else fails the property. */
export function onlyThrows<T>(allowed: abstract new (...args: never[]) => Error, fn: () => T): {value: T} | {error: Error} {
  try {
    return {value: fn()};
  } catch (error) {
    if (!(error instanceof allowed)) throw unexpected(allowed, error);
    return {error};
  }
}

export async function onlyRejects<T>(
  allowed: abstract new (...args: never[]) => Error,
  fn: () => Promise<T>,
): Promise<{value: T} | {error: Error}> {
  try {
    return {value: await fn()};
  } catch (error) {
    if (!(error instanceof allowed)) throw unexpected(allowed, error);
    return {error};
  }
}

function unexpected(allowed: {name: string}, error: unknown): Error {
  const described = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new Error(`expected only ${allowed.name}, got ${described.slice(0, 500)}`, {cause: error});
}

/** A temporary folder for the duration of `fn`. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `hub-prop-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
}

/** Look-alikes and specials that random generation rarely hits on its own. */
export const unicodeLookalikes = [
  '\u212a', // KELVIN SIGN, lower-cases to ASCII 'k'
  '\u0130', // LATIN CAPITAL LETTER I WITH DOT ABOVE, lower-cases to 'i' + combining dot
  '\u0131', // dotless i
  '\u017f', // LONG S, upper-cases to 'S'
  '\u0430', // CYRILLIC SMALL LETTER A
  '\u0435', // CYRILLIC SMALL LETTER IE
  '\u043e', // CYRILLIC SMALL LETTER O
  '\uff41', // FULLWIDTH LATIN SMALL LETTER A
  '\uff0f', // FULLWIDTH SOLIDUS
  '\u2215', // DIVISION SLASH
  '\u2024', // ONE DOT LEADER
  '\u200b', // ZERO WIDTH SPACE
  '\u00a0', // NO-BREAK SPACE
  '\u2028', // LINE SEPARATOR
  '\ufeff', // BOM
  '\u0000',
  '\ud800', // lone surrogate
  '\u{1f431}',
  'e\u0301',
];

/**
 * Strings over a small alphabet of the characters that matter to a grammar, mixed with a few
 * arbitrary and look-alike characters, so that generated strings are often almost valid.
 */
export function grammarString(alphabet: string, maxLength: number): fc.Arbitrary<string> {
  const unit = fc.oneof(
    {weight: 12, arbitrary: fc.constantFrom(...alphabet)},
    {weight: 1, arbitrary: fc.constantFrom(...unicodeLookalikes)},
    {weight: 1, arbitrary: fc.string({unit: 'binary', minLength: 1, maxLength: 1})},
  );
  return fc.string({unit, maxLength});
}

/** Any string, favouring the odd ones: full unicode, lone surrogates, control characters. */
export function anyString(maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({maxLength}),
    fc.string({unit: 'binary', maxLength}),
    fc.string({unit: 'grapheme', maxLength}),
    fc.string({unit: fc.constantFrom(...unicodeLookalikes, ' ', '\t', '\n', '"', '\\'), maxLength}),
  );
}
