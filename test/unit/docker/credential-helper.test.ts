import {describe, expect, it} from 'vitest';
import {answerCredentialRequest, CREDENTIALS_NOT_FOUND, type CredentialSource} from '../../../src/docker/credential-helper.js';

const source: CredentialSource = {
  version: () => '1.2.3',
  get: async (url) => (url === 'registry.example.com' ? {username: 'alice', secret: 'access-token'} : undefined),
  list: async () => ({'registry.example.com': 'alice'}),
};

describe('the credential-helper protocol', () => {
  it('get answers docker’s JSON with the access token as the password when there is no identity token', async () => {
    const answer = await answerCredentialRequest('get', 'registry.example.com\n', source);
    expect(answer.exitCode).toBe(0);
    expect(JSON.parse(answer.stdout)).toEqual({ServerURL: 'registry.example.com', Username: 'alice', Secret: 'access-token'});
  });

  it('get answers with docker’s identity token (Username "<token>") when the registry offered one, so the engine can outlast the access token', async () => {
    const withIdentity: CredentialSource = {
      ...source,
      get: async () => ({username: 'alice', secret: 'access-token', identityToken: 'hub-auth-refresh'}),
    };
    const answer = await answerCredentialRequest('get', 'registry.example.com', withIdentity);
    expect(JSON.parse(answer.stdout)).toEqual({ServerURL: 'registry.example.com', Username: '<token>', Secret: 'hub-auth-refresh'});
  });

  it('uses docker’s exact words for an unknown registry and a missing URL', async () => {
    expect(await answerCredentialRequest('get', 'other.example.com', source)).toMatchObject({
      stdout: `${CREDENTIALS_NOT_FOUND}\n`,
      exitCode: 1,
    });
    expect(await answerCredentialRequest('get', '', source)).toEqual({stdout: 'no credentials server URL\n', exitCode: 1});
  });

  it('refuses store with a pointer to hub login for that registry, without backticks (docker wraps the answer in its own), and takes erase without touching the session', async () => {
    const stored = await answerCredentialRequest('store', '{"ServerURL":"r","Username":"u","Secret":"s"}', source);
    expect(stored.exitCode).toBe(1);
    expect(stored.stdout).toContain('hub login');
    expect(
      await answerCredentialRequest('store', '{"ServerURL":"https://registry.example.com","Username":"u","Secret":"s"}', source),
    ).toEqual({
      stdout:
        'hub keeps the credentials for registry.example.com itself: sign in with "hub login registry.example.com" instead of "docker login".\n',
      exitCode: 1,
    });
    expect(await answerCredentialRequest('erase', 'registry.example.com', source)).toMatchObject({stdout: '', exitCode: 0});
  });

  it('lists, tells its version, and answers anything else with usage', async () => {
    expect(JSON.parse((await answerCredentialRequest('list', '', source)).stdout)).toEqual({'registry.example.com': 'alice'});
    expect((await answerCredentialRequest('version', '', source)).stdout).toBe('docker-credential-hub (hub) 1.2.3\n');
    expect(await answerCredentialRequest('fetch', '', source)).toEqual({
      stdout: 'Usage: docker-credential-hub <store|get|erase|list|version>\n',
      exitCode: 1,
    });
    expect((await answerCredentialRequest(undefined, '', source)).exitCode).toBe(1);
  });

  it('erase leaves the session and says so on stderr, with the command that ends it (podman says "Removed login credentials")', async () => {
    expect(await answerCredentialRequest('erase', 'https://registry.example.com\n', source)).toEqual({
      stdout: '',
      exitCode: 0,
      stderr: 'the hub session for registry.example.com stays, and the next pull uses it: end it with "hub logout registry.example.com".',
    });
    expect((await answerCredentialRequest('erase', '', source)).stderr).toContain('"hub logout"');
  });

  it('get without a session keeps docker’s exact stdout and points at hub login for that registry on stderr', async () => {
    expect(await answerCredentialRequest('get', 'https://Other.example.com/v1/', source)).toEqual({
      stdout: `${CREDENTIALS_NOT_FOUND}\n`,
      exitCode: 1,
      stderr: 'hub has no session for other.example.com: sign in with "hub login other.example.com".',
    });
    // Not a registry at all: nothing to sign in to.
    expect(await answerCredentialRequest('get', 'https://user:pw@x', source)).toEqual({stdout: `${CREDENTIALS_NOT_FOUND}\n`, exitCode: 1});
  });

  // docker sends the host, podman `host` or `host:port`, nerdctl also `https://host` and `https://host/v1/`.
  it.each([
    'registry.example.com',
    'Registry.Example.COM',
    'https://registry.example.com',
    'https://registry.example.com/',
    'https://registry.example.com/v1/',
    'https://registry.example.com/v2/',
    'http://registry.example.com',
    ' registry.example.com\n',
  ])('get answers %j, as sent, for the same registry', async (serverUrl) => {
    const answer = await answerCredentialRequest('get', serverUrl, source);
    expect(answer.exitCode).toBe(0);
    expect(JSON.parse(answer.stdout)).toEqual({ServerURL: serverUrl.trim(), Username: 'alice', Secret: 'access-token'});
  });

  it.each(['localhost:5000', 'http://localhost:5000', 'https://LOCALHOST:5000/v1/', 'localhost:5000/'])(
    'get answers %j for localhost:5000 and not for localhost',
    async (serverUrl) => {
      const local: CredentialSource = {
        ...source,
        get: async (registry) => (registry === 'localhost:5000' ? {username: 'bob', secret: 's'} : undefined),
      };
      expect((await answerCredentialRequest('get', serverUrl, local)).exitCode).toBe(0);
      expect((await answerCredentialRequest('get', serverUrl.replace(':5000', ''), local)).exitCode).toBe(1);
    },
  );
});
