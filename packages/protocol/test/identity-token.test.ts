import {describe, expect, it} from 'vitest';
import {tokenRevocationUrl} from '../src/identity-token.js';

describe('where hub-auth revokes its identity tokens', () => {
  it('is next to the realm: its last path segment token replaced by revoke', () => {
    expect(tokenRevocationUrl('https://auth.registry.example.com/token').href).toBe('https://auth.registry.example.com/revoke');
    expect(tokenRevocationUrl('https://example.com/hub-auth/token').href).toBe('https://example.com/hub-auth/revoke');
    expect(tokenRevocationUrl('http://127.0.0.1:5001/token?x=1').href).toBe('http://127.0.0.1:5001/revoke');
  });
});
