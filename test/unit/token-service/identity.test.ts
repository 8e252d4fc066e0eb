import {describe, expect, it} from 'vitest';
import {requesterFromClaims, requesterReader} from '../../../src/token-service/identity.js';

const verified = (claims: Record<string, unknown>, subject = 'f3a1-uuid') => ({subject, claims, expiresAt: 0});

describe('requesterFromClaims', () => {
  it('takes the configured username claim and the groups, as repository path components', () => {
    expect(requesterFromClaims(verified({preferred_username: 'Alice.Smith@Example.com', groups: ['Dev Team', '/platform/ops', 'dev-team']}), 'preferred_username', 'groups')).toEqual({
      account: 'alice.smith-example.com',
      groups: ['dev-team', 'platform-ops'],
    });
  });

  it('falls back to `username` (introspection) and then the subject', () => {
    expect(requesterFromClaims(verified({username: 'bob'}), 'preferred_username', 'groups').account).toBe('bob');
    expect(requesterFromClaims(verified({}, 'Sub-123'), 'preferred_username', 'groups')).toEqual({account: 'sub-123', groups: []});
  });

  it('reads a group claim given as one space- or comma-separated string', () => {
    expect(requesterFromClaims(verified({preferred_username: 'a', roles: 'dev, ops'}), 'preferred_username', 'roles').groups).toEqual(['dev', 'ops']);
  });

  it('refuses a token with no usable name', () => {
    expect(() => requesterFromClaims(verified({preferred_username: '***'}, '***'), 'preferred_username', 'groups')).toThrow('no usable username');
  });
});

describe('requesterReader', () => {
  it('reads each verified token once, with the configured claims', () => {
    const read = requesterReader('preferred_username', 'roles');
    const claims = verified({preferred_username: 'Alice', roles: ['Ops']});
    const requester = read(claims);
    expect(requester).toEqual({account: 'alice', groups: ['ops']});
    expect(read(claims)).toBe(requester);
    expect(read(verified({preferred_username: 'bob'}))).toEqual({account: 'bob', groups: []});
  });
});
