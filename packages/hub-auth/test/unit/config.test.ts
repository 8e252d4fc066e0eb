import {describe, expect, it} from 'vitest';
import {parseConfig, readSecret} from '../../src/config.js';

const minimal = {
  service: 'registry.example.com',
  signing: {key: {file: '/etc/hub-auth/signing.key'}, certificate: {file: '/etc/hub-auth/signing.crt'}},
  oidc: {issuer: 'https://id.example.com/realms/dev', audience: 'registry'},
  client: {clientId: 'hub-cli'},
  registry: {host: 'registry.example.com'},
};

describe('hub-auth configuration', () => {
  it('has the web hub off without a web client, on once the section names one (unless enabled: false); on, it names its client, its secret and where browsers reach it', () => {
    expect(parseConfig(minimal).web).toEqual({enabled: false, sessionLifetimeSeconds: 8 * 3600});
    const web = {enabled: true, clientId: 'hub-web', clientSecret: {env: 'HUB_WEB_SECRET'}, publicUrl: 'https://hub.example.com'};
    expect(parseConfig({...minimal, web}).web).toEqual({...web, sessionLifetimeSeconds: 8 * 3600});
    // On by default once it names its client; off when told, the client kept.
    const {enabled: _on, ...named} = web;
    expect(parseConfig({...minimal, web: named}).web.enabled).toBe(true);
    expect(parseConfig({...minimal, web: {...named, enabled: false}}).web.enabled).toBe(false);
    expect(() => parseConfig({...minimal, web: {clientId: 'hub-web'}})).toThrow(
      /web\.clientSecret: is required for the web hub[\s\S]*web\.publicUrl: is required/,
    );
    expect(() => parseConfig({...minimal, web: {enabled: true, clientId: 'hub-web'}})).toThrow(
      /web\.clientSecret: is required for the web hub[\s\S]*web\.publicUrl: is required/,
    );
    expect(() => parseConfig({...minimal, web: {...web, clientSecret: 'plain'}})).toThrow('web.clientSecret');
  });

  it('fills the documented defaults', () => {
    const config = parseConfig(minimal);
    expect(config).toMatchObject({
      listen: {host: '0.0.0.0', port: 5001, maxConnections: 2048, trustProxy: []},
      monitoring: {host: '127.0.0.1', port: 5002},
      issuer: 'hub-auth',
      tokenLifetimeSeconds: 300,
      tokenReuseSeconds: 5,
      refreshTokens: {enabled: true, lifetimeSeconds: 28_800, revalidateSeconds: 3600},
      signing: {keyId: 'libtrust', x5c: true, publish: []},
      oidc: {audience: ['registry'], usernameClaim: 'preferred_username', groupsClaim: 'groups', clockSkewSeconds: 30},
      policy: {publicRepositories: []},
      store: {dataDir: '/var/lib/hub-auth/store', followSymlink: false, poolSize: 10, statementTimeoutSeconds: 5},
    });
    expect(config.oidc.algorithms).not.toContain('none');
  });

  it('re-checks sessions hourly, or within the whole lifetime when that is shorter', () => {
    expect(parseConfig({...minimal, refreshTokens: {lifetimeSeconds: 600}}).refreshTokens.revalidateSeconds).toBe(600);
    expect(parseConfig({...minimal, refreshTokens: {revalidateSeconds: 60}}).refreshTokens).toEqual({
      enabled: true,
      lifetimeSeconds: 28_800,
      revalidateSeconds: 60,
    });
  });

  it('takes the store on a server from a connection string, as a secret, and never with a data directory', () => {
    expect(parseConfig({...minimal, store: {url: 'postgres://h/db'}}).store).toEqual({
      url: {value: 'postgres://h/db'},
      followSymlink: false,
      poolSize: 10,
      statementTimeoutSeconds: 5,
    });
    expect(parseConfig({...minimal, store: {url: {env: 'HUB_AUTH_STORE_URL'}}}).store.url).toEqual({env: 'HUB_AUTH_STORE_URL'});
    expect(() => parseConfig({...minimal, store: {url: 'postgres://h/db', dataDir: '/d'}})).toThrow(
      'store.dataDir: cannot be set with store.url',
    );
    expect(() => parseConfig({...minimal, store: {tls: {ca: {file: '/ca.pem'}}}})).toThrow('store.tls: is for a PostgreSQL server');
  });

  it('names the setting that replaced accounts.followBindingsSymlink', () => {
    expect(() => parseConfig({...minimal, accounts: {followBindingsSymlink: true}})).toThrow(
      'accounts.followBindingsSymlink: is gone: hub-auth no longer writes the bindings file. Use store.followSymlink: true',
    );
  });

  it('trusts an introspected "active" for 30 s and wants it to say access token, unless told otherwise', () => {
    const introspection = {clientId: 'hub-auth', clientSecret: {env: 'SECRET'}};
    expect(parseConfig({...minimal, oidc: {...minimal.oidc, introspection}}).oidc.introspection).toMatchObject({
      cacheActiveSeconds: 30,
      requireTokenType: true,
    });
    expect(() => parseConfig({...minimal, oidc: {...minimal.oidc, introspection: {...introspection, cacheActiveSeconds: 3600}}})).toThrow(
      /oidc\.introspection\.cacheActiveSeconds/,
    );
  });

  it("accepts by default only its own registry's audience, the one hub asks for", () => {
    const config = parseConfig({...minimal, oidc: {issuer: minimal.oidc.issuer}, registry: {host: 'Registry.Example.com:5000'}});
    expect(config.oidc.audience).toEqual(['https://registry.example.com:5000']);
  });

  it('accepts introspected tokens without an audience only when told so, for the clients it names', () => {
    const introspection = {clientId: 'hub-auth', clientSecret: {env: 'SECRET'}};
    expect(parseConfig({...minimal, oidc: {...minimal.oidc, introspection}}).oidc.introspection?.allowMissingAudience).toBe(false);
    expect(() => parseConfig({...minimal, oidc: {...minimal.oidc, introspection: {...introspection, allowMissingAudience: true}}})).toThrow(
      /oidc\.introspection\.acceptedClientIds: is required with allowMissingAudience/,
    );
  });

  it.each([
    [{...minimal, oidc: {...minimal.oidc, issuer: 'not a url'}}, 'oidc.issuer'],
    [{...minimal, oidc: {...minimal.oidc, algorithms: ['HS256']}}, 'oidc.algorithms.0'],
    [{...minimal, oidc: {...minimal.oidc, algorithms: ['none']}}, 'oidc.algorithms.0'],
    [{...minimal, tokenLifetimeSeconds: 5}, 'tokenLifetimeSeconds'],
    [{...minimal, tokenLifetimeSeconds: 60, tokenReuseSeconds: 31}, 'tokenReuseSeconds'],
    [{...minimal, tokenReuseSeconds: -1}, 'tokenReuseSeconds'],
    [{...minimal, refreshTokens: {revalidateSeconds: 59}}, 'refreshTokens.revalidateSeconds'],
    [{...minimal, refreshTokens: {lifetimeSeconds: 600, revalidateSeconds: 601}}, 'refreshTokens.revalidateSeconds'],
    [{...minimal, signing: {...minimal.signing, key: {path: '/x'}}}, 'signing.key'],
    [{...minimal, policy: {rules: [{match: {acount: 'x'}, actions: ['pull']}]}}, 'policy.rules.0.match'],
    [{...minimal, surprise: true}, '(top level)'],
    [{...minimal, listen: {maxConnections: 0}}, 'listen.maxConnections'],
    [{...minimal, monitoring: {port: 70_000}}, 'monitoring.port'],
    [(({service: _s, ...rest}) => rest)(minimal), 'service'],
  ])('names the bad field (%#: %s)', (data, field) => {
    expect(() => parseConfig(data, 'hub-auth.yml')).toThrow(
      new RegExp(`hub-auth.yml is not valid:[\\s\\S]*${field.replace(/[.()]/g, '\\$&')}`),
    );
  });

  it("takes workload issuers with the registry's own audience by default, and says what is wrong with one", () => {
    const gha = {name: 'gha', issuer: 'https://token.actions.githubusercontent.com', robot: '{repository:2}'};
    const config = parseConfig({...minimal, workloads: {issuers: [gha]}});
    expect(config.workloads.issuers[0]).toMatchObject({
      audience: ['https://registry.example.com'],
      requiredClaims: {},
      clockSkewSeconds: 30,
      maxLifetimeSeconds: 86_400,
    });
    expect(parseConfig(minimal).workloads.issuers).toEqual([]);
    const problem = (issuers: unknown[]) => () => parseConfig({...minimal, workloads: {issuers}});
    expect(problem([{...gha, robot: 'ci'}])).toThrow(/workloads\.issuers\.0\.robot: names no claim/);
    expect(problem([{...gha, robot: 'CI/{repository}'}])).toThrow(/robot: is not a repository path once filled in/);
    expect(problem([{...gha, robot: 'x-{repository:2}'}])).toThrow(/must fill whole components/);
    expect(problem([{...gha, robot: '{repository'}])).toThrow(/a "\{" or "\}" that is not a placeholder/);
    expect(problem([{...gha, name: 'GHA'}])).toThrow(/name: must be a repository path component/);
    expect(problem([{...gha, jwksUrl: 'https://x.example/jwks', jwksFile: '/etc/jwks.json'}])).toThrow(
      /jwksFile: cannot be set with jwksUrl/,
    );
    expect(problem([gha, {...gha, issuer: 'https://other.example'}])).toThrow(/two issuers have the same name/);
    expect(problem([gha, {...gha, name: 'other'}])).toThrow(/two entries have the same issuer/);
    expect(problem([{...gha, issuer: minimal.oidc.issuer}])).toThrow(/names oidc\.issuer/);
  });

  it('takes explicit endpoints over discovery, as URLs', () => {
    const config = parseConfig({
      ...minimal,
      oidc: {...minimal.oidc, endpoints: {introspection: 'https://id.example.com/introspect', userinfo: 'https://id.example.com/me'}},
    });
    expect(config.oidc.endpoints).toEqual({introspection: 'https://id.example.com/introspect', userinfo: 'https://id.example.com/me'});
    expect(parseConfig(minimal).oidc.endpoints).toEqual({});
    expect(() => parseConfig({...minimal, oidc: {...minimal.oidc, endpoints: {introspection: 'introspect'}}})).toThrow(
      /oidc\.endpoints\.introspection/,
    );
    expect(() => parseConfig({...minimal, oidc: {...minimal.oidc, endpoints: {revocaton: 'https://id.example.com/revoke'}}})).toThrow(
      /oidc\.endpoints/,
    );
  });

  it('checks opaque tokens at UserInfo only when the operator accepts, in so many words, that it cannot tell for whom a token was issued', () => {
    const userinfo = (settings: Record<string, unknown>) => parseConfig({...minimal, oidc: {...minimal.oidc, userinfo: settings}});
    expect(userinfo({acceptTokensIssuedToAnyClient: true}).oidc.userinfo).toEqual({
      acceptTokensIssuedToAnyClient: true,
      cacheActiveSeconds: 30,
    });
    expect(() => userinfo({})).toThrow(/oidc\.userinfo\.acceptTokensIssuedToAnyClient: must be true: UserInfo cannot tell/);
    expect(() => userinfo({acceptTokensIssuedToAnyClient: false})).toThrow(/acceptTokensIssuedToAnyClient/);
    expect(() =>
      parseConfig({
        ...minimal,
        oidc: {
          ...minimal.oidc,
          userinfo: {acceptTokensIssuedToAnyClient: true},
          introspection: {clientId: 'hub-auth', clientSecret: {env: 'S'}},
        },
      }),
    ).toThrow(/oidc\.userinfo: cannot be set with oidc\.introspection/);
  });

  it('reads secrets from the environment or a file, naming where it looked and never the value', async () => {
    expect(await readSecret({env: 'HUB_TEST_SECRET'}, 'oidc.introspection.clientSecret', {HUB_TEST_SECRET: 's3cret'})).toBe('s3cret');
    await expect(readSecret({env: 'HUB_TEST_SECRET'}, 'oidc.introspection.clientSecret', {})).rejects.toThrow(
      'oidc.introspection.clientSecret: environment variable HUB_TEST_SECRET is not set',
    );
    await expect(readSecret({file: '/nonexistent/secret'}, 'signing.key')).rejects.toThrow(
      'signing.key: cannot read /nonexistent/secret: ENOENT',
    );
  });
});
