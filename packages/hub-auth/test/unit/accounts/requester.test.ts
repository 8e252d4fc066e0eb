import {describe, expect, it} from 'vitest';
import {requesterReader, RefusedAccountError} from '../../../src/accounts/requester.js';

const verified = (claims: Record<string, unknown>, subject = 'f3a1-uuid') => ({subject, claims, expiresAt: 0});
/** An introspection answer without `sub`. */
const subjectless = (claims: Record<string, unknown>) => ({subject: undefined, claims, expiresAt: 0});
const rules = {
  issuer: 'https://id.example',
  usernameClaim: 'preferred_username',
  groupsClaim: 'groups',
  reservedNames: ['admin'],
  robotClients: ['ci-robot'],
};

describe('requesterReader', () => {
  const read = requesterReader(rules);

  it('takes the configured username claim as it is, and the groups that are namespace names as they are', () => {
    expect(read(verified({preferred_username: 'alice.smith', groups: ['Dev Team', '/platform', 'dev-team', 'a/b']}))).toEqual({
      requester: {account: 'alice.smith', groups: ['platform', 'dev-team']},
      holder: {issuer: 'https://id.example', subject: 'f3a1-uuid'},
      ignoredGroups: ['Dev Team', 'a/b'],
    });
  });

  it('falls back to `username` (introspection) and then the subject', () => {
    expect(read(verified({username: 'bob'})).requester.account).toBe('bob');
    expect(read(verified({}, 'sub-123')).requester).toEqual({account: 'sub-123', groups: []});
  });

  it('without a subject (RFC 7662 makes it optional), takes the username claim and binds the account to that name, marked as such', () => {
    expect(read(subjectless({username: 'alice', client_id: 'hub-cli'}))).toMatchObject({
      requester: {account: 'alice'},
      holder: {issuer: 'https://id.example', subject: 'username:alice'},
    });
  });

  it('without a subject nor a username, names the claims the answer had (never their values) and the setting to change', () => {
    const refusal = (() => {
      try {
        read(subjectless({active: true, client_id: 'hub-cli', email: 'alice@example.test'}));
      } catch (error) {
        return error as RefusedAccountError;
      }
      throw new Error('accepted');
    })();
    expect(refusal).toBeInstanceOf(RefusedAccountError);
    expect(refusal.message).toContain('no sub, nor preferred_username or username; it sent active, client_id, email');
    expect(refusal.message).toContain('oidc.usernameClaim');
    expect(refusal.message).not.toContain('alice@example.test');
    expect(refusal.log).toMatchObject({claim: 'preferred_username,username', subject: '(none)'});
  });

  it('takes a token of a configured robot client with no user in it (no sub, no username) for that robot', () => {
    expect(read(subjectless({active: true, client_id: 'ci-robot', token_type: 'Bearer'}))).toMatchObject({
      requester: {account: 'robots/ci-robot'},
      holder: {issuer: 'https://id.example', subject: 'ci-robot'},
    });
  });

  it('takes no other client, nor a robot client token that names a user, for a robot', () => {
    expect(() => read(subjectless({active: true, client_id: 'hub-cli'}))).toThrow(/names no user for your token/);
    expect(read(subjectless({client_id: 'ci-robot', username: 'alice'})).requester.account).toBe('alice');
  });

  it('reads a group claim given as one space- or comma-separated string', () => {
    expect(
      requesterReader({...rules, groupsClaim: 'roles'})(verified({preferred_username: 'a', roles: 'dev, ops'})).requester.groups,
    ).toEqual(['dev', 'ops']);
  });

  it.each([
    ['Alice', 'not a repository path component'],
    ['alice_', 'not a repository path component'],
    ['.alice.', 'not a repository path component'],
    ['alice@', 'not a repository path component'],
    ['Alice.Smith@Example.com', 'not a repository path component'],
    ['a/b', 'not a repository path component'],
    ['\u212aelvin', 'not a repository path component'],
    ['x'.repeat(65), 'longer than 64'],
    ['public', 'reserved'],
    ['library', 'reserved'],
    ['groups', 'reserved'],
    ['robots', 'reserved'],
    ['admin', 'reserved'],
  ])('refuses the username %j, never rewriting it (%s)', (name, why) => {
    let error: unknown;
    try {
      read(verified({preferred_username: name}));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RefusedAccountError);
    expect((error as RefusedAccountError).message).toContain(JSON.stringify(name));
    expect((error as RefusedAccountError).message).toContain("ask the registry's operator");
    expect((error as RefusedAccountError).log).toMatchObject({
      claim: 'preferred_username',
      subject: 'f3a1-uuid',
      reason: expect.stringContaining(why),
    });
  });

  it('does not fall back to another claim when the username claim is unusable', () => {
    expect(() => read(verified({preferred_username: 'Bob', username: 'bob'}))).toThrow(RefusedAccountError);
  });

  it('makes a client credentials token (subject = client id) the robot robots/<client-id>, whatever username it carries', () => {
    expect(read(verified({client_id: 'ci-robot'}, 'ci-robot')).requester).toEqual({account: 'robots/ci-robot', groups: []});
    expect(read(verified({client_id: 'ci-robot', preferred_username: 'alice'}, 'ci-robot')).requester.account).toBe('robots/ci-robot');
    expect(() => read(verified({client_id: 'CI_Robot'}, 'CI_Robot'))).toThrow(
      expect.objectContaining({log: expect.objectContaining({claim: 'client_id'})}),
    );
  });

  it('treats a user token issued to a client as the user', () => {
    expect(read(verified({client_id: 'hub-cli', preferred_username: 'alice'})).requester.account).toBe('alice');
  });

  it('reads each verified token once', () => {
    const claims = verified({preferred_username: 'alice', groups: ['ops']});
    expect(read(claims)).toBe(read(claims));
  });
});
