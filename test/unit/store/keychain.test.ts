import {describe, expect, it} from 'vitest';
import {WINDOWS_PART_LENGTH, entryLimit, splitIntoParts} from '../../../src/store/keychain.js';

/** Windows Credential Manager: at most 2,560 bytes a credential, stored as UTF-16. */
const WINDOWS_LIMIT_BYTES = 2560;

describe('entryLimit', () => {
  it('splits sessions only where the keychain caps an entry: Windows', () => {
    expect(entryLimit('win32')).toBe(WINDOWS_PART_LENGTH);
    expect(entryLimit('linux')).toBe(Number.POSITIVE_INFINITY);
    expect(entryLimit('darwin')).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('splitIntoParts', () => {
  it('cuts a long JWT pair into parts that each fit a Windows credential, and joins back exactly', () => {
    const session = JSON.stringify({accessToken: `eyJ${'x'.repeat(5000)}`, refreshToken: `eyJ${'y'.repeat(3000)}`});
    const parts = splitIntoParts(session, WINDOWS_PART_LENGTH);
    expect(parts.join('')).toBe(session);
    for (const part of parts) expect(Buffer.byteLength(part, 'utf16le')).toBeLessThanOrEqual(WINDOWS_LIMIT_BYTES);
  });

  it('never splits a surrogate pair', () => {
    const text = '😀'.repeat(1500);
    const parts = splitIntoParts(text, 999);
    expect(parts.join('')).toBe(text);
    for (const part of parts) expect(Buffer.from(part, 'utf8').toString('utf8')).toBe(part);
  });

  it('keeps an empty text as one empty part', () => {
    expect(splitIntoParts('', 10)).toEqual(['']);
  });
});
