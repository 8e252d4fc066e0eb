import {describe, expect, it} from 'vitest';
import {isCanonicalCompactJws} from '../../src/compact-jws.js';

describe('the one spelling of a compact JWS', () => {
  // A signature of 64 bytes: 86 characters, whose last carries 4 unused bits.
  const signature = Buffer.alloc(64, 7).toString('base64url');
  const token = `eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.${signature}`;

  it('takes three parts of unpadded base64url', () => {
    expect(isCanonicalCompactJws(token)).toBe(true);
  });

  it('refuses padding, stray characters, other unused bits and another number of parts', () => {
    const lastOther = signature.slice(0, -1) + (signature.at(-1) === 'w' ? 'x' : 'w');
    expect(Buffer.from(lastOther, 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(true);
    for (const respelled of [
      `${token}=`,
      `${token}==`,
      token.replace('.eyJ', '.ey J'),
      token.replace('.eyJ', '.ey+J'),
      token.replace(signature, lastOther),
      `${token}.x`,
      token.split('.').slice(0, 2).join('.'),
      `${token.split('.').slice(0, 2).join('.')}.`,
    ]) {
      expect(isCanonicalCompactJws(respelled), respelled).toBe(false);
    }
  });
});
