import {readFile, writeFile} from 'node:fs/promises';
import {connect} from 'node:net';
import {join} from 'node:path';
import {decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT} from 'jose';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createSigner} from '../../packages/hub-auth/src/tokens/signing.js';
import {generateSigningMaterial} from '../../packages/hub-auth/src/tokens/keygen.js';
import {keygen, SERVICE, startHubAuth, TOKEN_ISSUER, type HubAuth, type SigningFiles} from '@hub/test-stack/hub-auth';
import {registryAudience} from '@hub/protocol/registry-audience';
import {CLI_CLIENT_ID, startIdentityProvider, subjectOf, type IdentityProvider} from '@hub/test-stack/identity-provider';
import {freePort, waitFor} from '@hub/test-stack/ports';
import {waitForOutput} from '@hub/test-stack/process';
import {assertPrograms, e2eEnabled} from '@hub/test-stack/prerequisites';
import {startPostgres} from '@hub/test-stack/postgres';
import {startRegistry, type Registry} from '@hub/test-stack/registry';
import {createSandbox, type Sandbox} from '@hub/test-stack/sandbox';

const PROGRAMS = ['docker-registry'];
const REVOCATION_SECONDS = 3;

/** distribution 2.8 accepts a token until this long after its exp (registry/auth/token's Leeway). */
const REGISTRY_LEEWAY_SECONDS = 60;

describe.runIf(e2eEnabled(PROGRAMS))('hub-auth refuses what it must, and the registry checks its signatures', () => {
  let sandbox: Sandbox;
  let idp: IdentityProvider;
  let hubAuth: HubAuth;
  let registry: Registry;
  let signing: SigningFiles;
  const used: string[] = [];

  beforeAll(async () => {
    assertPrograms(PROGRAMS);
    sandbox = await createSandbox('hub-auth-rejections');
    idp = await startIdentityProvider();
    signing = await keygen(join(sandbox.dir, 'keys'));
    const registryPort = await freePort();
    hubAuth = await startHubAuth({
      dir: join(sandbox.dir, 'hub-auth'),
      oidcIssuer: idp.issuer,
      registryHost: `127.0.0.1:${registryPort}`,
      signing,
      // A few seconds, so that the revocation test need not wait long.
      extra: {oidc: {introspection: {cacheActiveSeconds: REVOCATION_SECONDS}}},
    });
    registry = await startRegistry(
      join(sandbox.dir, 'registry'),
      {realm: `${hubAuth.url}/token`, service: SERVICE, issuer: TOKEN_ISSUER, rootCertBundle: signing.certificate},
      registryPort,
    );
  });

  afterAll(async () => {
    await registry?.stop();
    await hubAuth?.stop();
    await idp?.stop();
    await sandbox?.remove();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const claims = (overrides: Record<string, unknown> = {}) => ({
    iss: idp.issuer,
    aud: registryAudience(registry.host),
    sub: subjectOf('alice'),
    preferred_username: 'alice',
    groups: ['dev'],
    client_id: 'hub-cli',
    iat: now(),
    exp: now() + 300,
    ...overrides,
  });

  const metricsText = async () => (await fetch(`${hubAuth.monitoringUrl}/metrics`)).text();

  async function getToken(token: string | undefined, scope: string | string[] = 'repository:alice/app:push,pull', extra = '') {
    const query = new URLSearchParams({service: SERVICE});
    for (const s of [scope].flat()) query.append('scope', s);
    if (token) used.push(token);
    const response = await fetch(`${hubAuth.url}/token?${query}${extra}`, {
      headers: token === undefined ? {} : {authorization: `Basic ${Buffer.from(`alice:${token}`).toString('base64')}`},
    });
    const body = (await response.json()) as {token?: string; refresh_token?: string; errors?: Array<{message: string}>};
    return {
      status: response.status,
      body,
      header: response.headers.get('www-authenticate'),
      access: body.token ? decodeJwt(body.token).access : undefined,
    };
  }

  it('grants a valid provider-signed token what the policy allows', async () => {
    const result = await getToken(await idp.signWithProviderKey(claims()));
    expect(result.status).toBe(200);
    expect(result.access).toEqual([{type: 'repository', name: 'alice/app', actions: ['push', 'pull']}]);
    const registryClaims = decodeJwt(result.body.token!);
    expect(registryClaims).toMatchObject({iss: TOKEN_ISSUER, aud: SERVICE, sub: 'alice'});
    expect(registryClaims.exp! - registryClaims.iat!).toBe(300);
    expect(typeof registryClaims.jti).toBe('string');
  });

  it('tells clients how to log in, and answers health checks', async () => {
    const configuration = await (await fetch(`${hubAuth.url}/.well-known/hub-configuration`)).json();
    expect(configuration).toEqual({
      issuer: idp.issuer,
      client_id: 'hub-cli',
      scopes: 'openid profile offline_access',
      audience: registryAudience(registry.host),
      registry: registry.host,
      service: SERVICE,
    });
    expect((await fetch(`${hubAuth.monitoringUrl}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${hubAuth.monitoringUrl}/readyz`)).json()).toEqual({status: 'ready'});
  });

  it('serves metrics and health checks on the monitoring listener only, not on the token port', async () => {
    for (const path of ['/metrics', '/readyz', '/healthz']) expect((await fetch(`${hubAuth.url}${path}`)).status, path).toBe(404);
    const metrics = await fetch(`${hubAuth.monitoringUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^hub_auth_token_requests_total\{grant="password",outcome="issued"\} \d+$/m);
  });

  it('takes only the OAuth2 form at POST /token: other bodies get 415, logged and counted, never a 500', async () => {
    const refusedBefore = countOf(await metricsText(), 'hub_auth_token_requests_total{grant="unknown",outcome="bad_request"}');
    const bodies: Array<[string, string]> = [
      ['application/json', '{"scope":1}'],
      ['application/json', JSON.stringify({grant_type: 'password', password: {token: 1}, service: SERVICE})],
      ['application/json; charset=utf-8', '[]'],
      ['text/plain', 'grant_type=password&password=x'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\npassword\r\n--x--'],
    ];
    for (const [type, body] of bodies) {
      const response = await fetch(`${hubAuth.url}/token`, {method: 'POST', headers: {'content-type': type}, body});
      expect(response.status, type).toBe(415);
      expect(await response.json()).toEqual({
        error: 'invalid_request',
        error_description: expect.stringContaining('application/x-www-form-urlencoded form only'),
      });
    }
    expect(countOf(await metricsText(), 'hub_auth_token_requests_total{grant="unknown",outcome="bad_request"}')).toBe(
      refusedBefore + bodies.length,
    );
    expect(countOf(await metricsText(), 'hub_auth_token_requests_total{grant="unknown",outcome="error"}')).toBe(0);
    expect(await waitForOutput(hubAuth.daemon, /"outcome":"bad_request","status":415/)).toMatch(/"outcome":"bad_request","status":415/);
  });

  it.each([
    ['a refresh token in Keycloak’s way (typ claim Refresh)', () => idp.signWithProviderKey(claims({typ: 'Refresh'}), 'JWT')],
    ['an ID token in Cognito’s way (token_use id)', () => idp.signWithProviderKey(claims({token_use: 'id'}), 'JWT')],
    ['a JWT whose typ header names another kind of token', () => idp.signWithProviderKey(claims(), 'logout+jwt')],
  ])('refuses %s, signed by the provider, as an access token', async (_what, make) => {
    const result = await getToken(await make());
    expect(result.status).toBe(401);
    expect(result.body.errors?.[0]?.message).toMatch(/not an access token/);
  });

  it('accepts access tokens that say so in other providers’ ways (typ JWT header, typ Bearer claim)', async () => {
    expect((await getToken(await idp.signWithProviderKey(claims({typ: 'Bearer'}), 'JWT'))).status).toBe(200);
  });

  it(`stops accepting an opaque access token within cacheActiveSeconds (${REVOCATION_SECONDS} s here) of its revocation at the provider`, async () => {
    const token = await idp.issueOpaqueToken('alice', 600, registryAudience(registry.host));
    expect((await getToken(token)).status).toBe(200);
    const revocation = await fetch(`${idp.issuer}/token/revocation`, {
      method: 'POST',
      headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams({token, token_type_hint: 'access_token', client_id: CLI_CLIENT_ID}).toString(),
    });
    expect(revocation.status).toBe(200);
    // Polled, not timed: the token must stop working, well before it would expire (600 s).
    let last = await getToken(token);
    for (const deadline = Date.now() + 30_000; last.status === 200 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      last = await getToken(token);
    }
    expect(last.status).toBe(401);
    expect(last.body.errors?.[0]?.message).toMatch(/not active/);
  }, 40_000);

  it('closes connections past listen.maxConnections and keeps answering on the ones it has', async () => {
    const limited = await startHubAuth({
      dir: join(sandbox.dir, 'limited'),
      oidcIssuer: idp.issuer,
      registryHost: registry.host,
      signing,
      extra: {listen: {maxConnections: 8, requestTimeoutSeconds: 60}},
    });
    const port = Number(new URL(limited.url).port);
    const open: Array<ReturnType<typeof connect>> = [];
    try {
      for (let i = 0; i < 8; i++) {
        const socket = connect(port, '127.0.0.1');
        open.push(socket);
        expect(await exchange(socket)).toMatch(/^HTTP\/1\.1 200/);
      }
      // The ninth is closed unanswered, as long as the eight stay open.
      const extra = connect(port, '127.0.0.1');
      expect(await exchange(extra)).toBe('');
      for (const socket of open) expect(await exchange(socket)).toMatch(/^HTTP\/1\.1 200/);
      for (const socket of open.splice(0)) socket.destroy();
      let again: Response | undefined;
      for (const deadline = Date.now() + 10_000; !again && Date.now() < deadline;) {
        again = await fetch(`${limited.url}/.well-known/jwks.json`).catch(() => undefined);
      }
      expect(again?.status).toBe(200);
    } finally {
      for (const socket of open) socket.destroy();
      await limited.stop();
    }
  }, 60_000);

  it.each([
    ['an expired token', () => idp.signWithProviderKey(claims({exp: now() - 120, iat: now() - 900})), /expired/],
    ['a token for another audience', () => idp.signWithProviderKey(claims({aud: 'https://other.example'})), /aud/],
    ['a token from another issuer', () => idp.signWithProviderKey(claims({iss: 'https://evil.example'})), /iss/],
  ])('refuses %s with 401', async (_what, make, message) => {
    const result = await getToken(await make());
    expect(result.status).toBe(401);
    expect(result.header).toMatch(/^Basic realm=/);
    expect(result.body.errors?.[0]?.message).toMatch(message);
  });

  it('refuses a token signed by a key the provider does not publish', async () => {
    const {privateKey} = await generateKeyPair('RS256');
    const forged = await new SignJWT(claims()).setProtectedHeader({alg: 'RS256', kid: 'test-provider-key'}).sign(privateKey);
    expect((await getToken(forged)).status).toBe(401);
    const unknownKid = await new SignJWT(claims()).setProtectedHeader({alg: 'RS256', kid: 'rogue'}).sign(privateKey);
    expect((await getToken(unknownKid)).status).toBe(401);
  });

  it('refuses alg none and HMAC signed with the public key', async () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    expect((await getToken(`${b64({alg: 'none', typ: 'JWT'})}.${b64(claims())}.`)).status).toBe(401);
    const jwks = (await (await fetch(`${idp.issuer}/jwks`)).json()) as {keys: Array<Record<string, string>>};
    const hmacKey = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
    const confused = await new SignJWT(claims()).setProtectedHeader({alg: 'HS256', kid: 'test-provider-key'}).sign(hmacKey);
    expect((await getToken(confused)).status).toBe(401);
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const [header, , signature] = (await idp.signWithProviderKey(claims({preferred_username: 'bob'}))).split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.${signature}`;
    expect((await getToken(tampered)).status).toBe(401);
  });

  it('refuses an opaque token the provider does not know (inactive)', async () => {
    const result = await getToken('opaque-token-the-provider-never-issued');
    expect(result.status).toBe(401);
    expect(result.body.errors?.[0]?.message).toMatch(/not active/);
  });

  it.each([
    ['Basic !!!not-base64'],
    ['Digest username="alice"'],
    [`Basic ${Buffer.from('alice-without-password').toString('base64')}`],
    ['Basic'],
    [`Bearer a b`],
  ])('answers the malformed Authorization header %j with 401', async (header) => {
    const response = await fetch(`${hubAuth.url}/token?service=${SERVICE}&scope=repository:alice/app:pull`, {
      headers: {authorization: header},
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
  });

  it('grants nothing for malformed, oversized or path-traversing scopes, without failing', async () => {
    const token = await idp.signWithProviderKey(claims());
    for (const scope of [
      'garbage',
      'repository:alice/app',
      'repository::pull',
      `repository:alice/${'a'.repeat(5000)}:pull`,
      'repository:alice/../bob/app:push',
      'repository:../bob:pull',
      'repository:Alice/App:pull',
    ]) {
      const result = await getToken(token, scope);
      expect(result.status, scope).toBe(200);
      expect(result.access, scope).toEqual([]);
    }
    // One bad scope does not spoil the good one beside it; another's namespace is left out.
    const mixed = await getToken(token, ['repository:bob/app:push,pull', 'repository:alice/app:pull', 'repository:library/base:pull,push']);
    expect(mixed.access).toEqual([
      {type: 'repository', name: 'alice/app', actions: ['pull']},
      {type: 'repository', name: 'library/base', actions: ['pull']},
    ]);
  });

  it('refuses another service, duplicate and unknown grant parameters', async () => {
    const token = await idp.signWithProviderKey(claims());
    const wrongService = await fetch(`${hubAuth.url}/token?service=other`, {
      headers: {authorization: `Basic ${Buffer.from(`a:${token}`).toString('base64')}`},
    });
    expect(wrongService.status).toBe(400);
    const post = (body: string) =>
      fetch(`${hubAuth.url}/token`, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body});
    expect((await post('grant_type=client_credentials&service=hub-registry')).status).toBe(400);
    expect(await (await post('grant_type=magic')).json()).toMatchObject({error: 'unsupported_grant_type'});
    expect((await post(`grant_type=password&grant_type=refresh_token&password=${token}`)).status).toBe(400);
    expect((await post('grant_type=refresh_token&refresh_token=not-ours')).status).toBe(401);
  });

  it('quotes at most a hundred characters of any value in a request, in its answer and in its log', async () => {
    // Just under the 16 KB body limit, as in the report.
    const huge = 'g'.repeat(16 * 1024 - 'grant_type='.length);
    const logBefore = hubAuth.daemon.output().length;
    const post = (body: string, type = 'application/x-www-form-urlencoded') =>
      fetch(`${hubAuth.url}/token`, {method: 'POST', headers: {'content-type': type}, body});
    const answers = [
      // An unknown grant_type, the report's own case.
      await (await post(`grant_type=${huge}`)).json(),
      // A content type (a header can hold nearly 16 KB).
      await (await post('{}', `application/${'j'.repeat(15 * 1024)}`)).json(),
      // A typ header in a token the provider signed: quoted when it is refused as not an access token.
      (await getToken(await idp.signWithProviderKey(claims(), `x${'t'.repeat(8 * 1024)}+jwt`))).body,
      // A username claim that is no account name, quoted when the account is refused.
      (await getToken(await idp.signWithProviderKey(claims({preferred_username: `A${'u'.repeat(8 * 1024)}`})))).body,
    ] as Array<{error_description?: string; errors?: Array<{message: string}>}>;
    for (const answer of answers) {
      const message = answer.error_description ?? answer.errors?.[0]?.message ?? '';
      expect(message).toMatch(/… \(\d+ more characters cut\)/);
      expect(message.length).toBeLessThan(600);
    }
    const lines = () => hubAuth.daemon.output().slice(logBefore).split('\n').filter(Boolean);
    await waitFor('a log line for each refusal', async () => lines().length >= answers.length);
    for (const line of lines()) expect(line.length, line.slice(0, 200)).toBeLessThan(1200);
  });

  it('issues a refresh token with access_type=offline that works once decoded, and only as a refresh token', async () => {
    const token = await idp.signWithProviderKey(claims());
    used.push(token);
    const form = (fields: Record<string, string>) =>
      fetch(`${hubAuth.url}/token`, {
        method: 'POST',
        headers: {'content-type': 'application/x-www-form-urlencoded'},
        body: new URLSearchParams(fields).toString(),
      });
    const first = (await (
      await form({
        grant_type: 'password',
        username: 'alice',
        password: token,
        service: SERVICE,
        access_type: 'offline',
        client_id: 'docker',
      })
    ).json()) as {
      refresh_token: string;
    };
    expect(first.refresh_token).toBeTruthy();
    const refreshed = await form({
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      service: SERVICE,
      client_id: 'docker',
      scope: 'repository:alice/app:pull',
    });
    expect(refreshed.status).toBe(200);
    const {access_token} = (await refreshed.json()) as {access_token: string};
    expect(decodeJwt(access_token).access).toEqual([{type: 'repository', name: 'alice/app', actions: ['pull']}]);

    // The registry does not take a refresh token as an access token.
    const asBearer = await fetch(`${registry.url}/v2/alice/app/tags/list`, {headers: {authorization: `Bearer ${first.refresh_token}`}});
    expect(asBearer.status).toBe(401);
    // Nor does hub-auth take a refresh token whose claims were changed.
    const [h, p, s] = first.refresh_token.split('.');
    const changed = {...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'bob'};
    const forgedRefresh = `${h}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${s}`;
    expect((await form({grant_type: 'refresh_token', refresh_token: forgedRefresh, service: SERVICE})).status).toBe(401);
    // Nor the same token spelled another way: padded, or with other unused bits in the last character.
    for (const respelled of otherSpellings(first.refresh_token)) {
      expect((await form({grant_type: 'refresh_token', refresh_token: respelled, service: SERVICE})).status, respelled).toBe(401);
    }
  });

  it('a registry token never outlives the identity token or the access token it was traded for', {timeout: 120_000}, async () => {
    // An identity token of hub-auth's own, signed with its key like any other, that ends in 3 s.
    const token = await idp.signWithProviderKey(claims());
    used.push(token);
    const issued = (await (
      await fetch(`${hubAuth.url}/token`, {
        method: 'POST',
        headers: {'content-type': 'application/x-www-form-urlencoded'},
        body: new URLSearchParams({grant_type: 'password', password: token, service: SERVICE, access_type: 'offline'}).toString(),
      })
    ).json()) as {refresh_token: string};
    const {kid} = decodeProtectedHeader(issued.refresh_token);
    const signers = (['libtrust', 'thumbprint'] as const).map(async (keyIdFormat) =>
      createSigner({
        privateKeyPem: await readFile(signing.key, 'utf8'),
        certificatePem: await readFile(signing.certificate, 'utf8'),
        keyIdFormat,
        includeX5c: true,
      }),
    );
    const signer = (await Promise.all(signers)).find((candidate) => candidate.kid === kid)!;
    const endsAt = now() + 3;
    const ending = signer.sign({...decodeJwt(issued.refresh_token), exp: endsAt});

    // Traded at its last moment, for the default lifetime of 300 s.
    const traded = await fetch(`${hubAuth.url}/token`, {
      method: 'POST',
      headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: ending,
        service: SERVICE,
        scope: 'repository:alice/app:pull',
      }).toString(),
    });
    expect(traded.status).toBe(200);
    const {access_token, expires_in} = (await traded.json()) as {access_token: string; expires_in: number};
    expect(decodeJwt(access_token).exp).toBeLessThanOrEqual(endsAt);
    expect(expires_in).toBeLessThanOrEqual(3);

    // The same for a provider's access token that ends then too.
    const shortLived = await idp.signWithProviderKey(claims({exp: endsAt}));
    used.push(shortLived);
    const fromAccessToken = await getToken(shortLived, 'repository:alice/app:pull');
    expect(decodeJwt(fromAccessToken.body.token!).exp).toBeLessThanOrEqual(endsAt);

    // Once they have ended, the registry refuses both registry tokens: after distribution's
    // 60 s of leeway for clock skew, which it adds to every exp it checks.
    const tagsWith = (bearer: string) => fetch(`${registry.url}/v2/alice/app/tags/list`, {headers: {authorization: `Bearer ${bearer}`}});
    expect((await tagsWith(access_token)).status).toBe(404); // authorized; the repository does not exist
    await new Promise((resolve) => setTimeout(resolve, (endsAt + REGISTRY_LEEWAY_SECONDS + 1 - now()) * 1000));
    expect((await tagsWith(access_token)).status).toBe(401);
    expect((await tagsWith(fromAccessToken.body.token!)).status).toBe(401);
  });

  it('refuses a provider-signed access token spelled another way than its one canonical form', async () => {
    const token = await idp.signWithProviderKey(claims());
    used.push(token);
    expect((await getToken(token)).status).toBe(200);
    for (const respelled of otherSpellings(token)) {
      const result = await getToken(respelled);
      expect(result.status, respelled).toBe(401);
    }
  });

  it('the registry accepts hub-auth tokens and refuses tokens signed with a key outside its bundle', async () => {
    const valid = await getToken(await idp.signWithProviderKey(claims()), 'repository:alice/app:pull');
    const accepted = await fetch(`${registry.url}/v2/alice/app/tags/list`, {headers: {authorization: `Bearer ${valid.body.token}`}});
    expect(accepted.status).toBe(404); // authorized; the repository does not exist yet

    // Without x5c, distribution 2.8 finds the key by its libtrust key ID in the bundle.
    const kidOnly = createSigner({
      privateKeyPem: await readFile(signing.key, 'utf8'),
      certificatePem: await readFile(signing.certificate, 'utf8'),
      keyIdFormat: 'libtrust',
      includeX5c: false,
    });
    const byKid = kidOnly.sign({...decodeJwt(valid.body.token!), jti: 'kid-only'});
    expect((await fetch(`${registry.url}/v2/alice/app/tags/list`, {headers: {authorization: `Bearer ${byKid}`}})).status).toBe(404);

    const rogue = await generateSigningMaterial({algorithm: 'ES256', commonName: 'hub-auth', days: 1});
    for (const options of [
      {keyIdFormat: 'libtrust', includeX5c: true},
      {keyIdFormat: 'libtrust', includeX5c: false},
    ] as const) {
      const forger = createSigner({privateKeyPem: rogue.privateKeyPem, certificatePem: rogue.certificatePem, ...options});
      const forged = forger.sign({...decodeJwt(valid.body.token!), jti: `forged-${options.includeX5c}`});
      const refused = await fetch(`${registry.url}/v2/alice/app/tags/list`, {headers: {authorization: `Bearer ${forged}`}});
      expect(refused.status, JSON.stringify(options)).toBe(401);
    }
  });

  it('rotates keys without downtime: old and new keys both verify while the new one signs', async () => {
    const rotation = join(sandbox.dir, 'rotation');
    const next = await keygen(join(rotation, 'keys'));
    const bundle = join(rotation, 'bundle.crt');
    await writeFile(bundle, `${await readFile(signing.certificate, 'utf8')}${await readFile(next.certificate, 'utf8')}`);
    const port = await freePort();
    // Rotation among instances that share the store, as every instance of one registry does: the
    // sessions behind the identity tokens are there, whichever key signed them.
    const postgres = await startPostgres();
    const shared = {
      oidcIssuer: idp.issuer,
      registryHost: `127.0.0.1:${port}`,
      // The instances that replace the first one: they keep accepting the tokens for that registry.
      oidc: {audience: registryAudience(registry.host)},
      store: {url: {env: 'HUB_AUTH_STORE_URL'}},
      env: {HUB_AUTH_STORE_URL: await postgres.database('rotation')},
    };
    const old = await startHubAuth({...shared, dir: join(rotation, 'hub-auth-old'), signing});
    const rotated = await startHubAuth({
      ...shared,
      dir: join(rotation, 'hub-auth'),
      signing: next,
      extra: {signing: {key: {file: next.key}, certificate: {file: next.certificate}, publish: [{file: signing.certificate}]}},
    });
    const bundled = await startRegistry(
      join(rotation, 'registry'),
      {realm: `${rotated.url}/token`, service: SERVICE, issuer: TOKEN_ISSUER, rootCertBundle: bundle},
      port,
    );
    try {
      const jwks = (await (await fetch(`${rotated.url}/.well-known/jwks.json`)).json()) as {keys: unknown[]};
      expect(jwks.keys).toHaveLength(2);
      const token = await idp.signWithProviderKey(claims());
      used.push(token);
      for (const instance of [old, rotated]) {
        const issued = (await (
          await fetch(`${instance.url}/token?service=${SERVICE}&scope=repository:alice/app:pull&offline_token=true`, {
            headers: {authorization: `Basic ${Buffer.from(`alice:${token}`).toString('base64')}`},
          })
        ).json()) as {token: string; refresh_token: string};
        const accepted = await fetch(`${bundled.url}/v2/alice/app/tags/list`, {headers: {authorization: `Bearer ${issued.token}`}});
        expect(accepted.status).toBe(404);
        // A refresh token from either key is good at the instance that signs with the new one.
        const refreshed = await fetch(`${rotated.url}/token`, {
          method: 'POST',
          headers: {'content-type': 'application/x-www-form-urlencoded'},
          body: new URLSearchParams({grant_type: 'refresh_token', refresh_token: issued.refresh_token, service: SERVICE}).toString(),
        });
        expect(refreshed.status).toBe(200);
      }
    } finally {
      await bundled.stop();
      await rotated.stop();
      await old.stop();
      await postgres.remove();
    }
  });

  it('refuses oversized headers and bodies, and cuts off a client that never finishes its request', async () => {
    const token = await idp.signWithProviderKey(claims());
    const bigHeader = await fetch(`${hubAuth.url}/token?service=${SERVICE}`, {
      headers: {authorization: `Basic ${Buffer.from(`a:${token}`).toString('base64')}`, 'x-padding': 'x'.repeat(20_000)},
    });
    expect(bigHeader.status).toBe(431);
    const bigBody = await fetch(`${hubAuth.url}/token`, {
      method: 'POST',
      headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: `grant_type=password&password=${'x'.repeat(20_000)}`,
    });
    expect(bigBody.status).toBe(413);

    const {port} = new URL(hubAuth.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /token?service=hub-registry HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const started = Date.now();
    await new Promise((resolve) => socket.once('close', resolve));
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await fetch(`${hubAuth.url}/.well-known/jwks.json`)).status).toBe(200);
  }, 30_000);

  it('never writes a token into its log', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1200)); // the last batch of log lines
    const log = await waitForOutput(hubAuth.daemon, '"event":"token"');
    expect(log).toContain('"event":"token"');
    for (const token of used) expect(log).not.toContain(token);
  });
});

/**
 * One keep-alive request on a raw socket; what came back before the answer was complete or the
 * socket closed ('' when the server closed it without a word).
 */
function exchange(socket: ReturnType<typeof connect>): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    const done = () => {
      socket.off('data', onData);
      socket.off('close', done);
      resolve(received);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.toString();
      const [head, body] = received.split('\r\n\r\n', 2);
      const length = Number(/content-length: (\d+)/i.exec(head ?? '')?.[1] ?? NaN);
      if (body !== undefined && body.length >= length) done();
    };
    socket.on('data', onData);
    socket.once('close', done);
    socket.once('error', done);
    socket.write('GET /.well-known/jwks.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
  });
}

function countOf(metrics: string, series: string): number {
  const line = metrics.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/**
 * The same signed bytes in other texts a lenient base64url decoder reads alike: padding after the
 * signature, and the last character with other values in the bits it does not use.
 */
function otherSpellings(token: string): string[] {
  const signature = token.split('.')[2]!;
  const bytes = Buffer.from(signature, 'base64url');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const unusedBits = (signature.length * 6) % 8;
  const last = alphabet.indexOf(signature.at(-1)!);
  const sameBytes = Array.from(
    {length: 1 << unusedBits},
    (_, low) => signature.slice(0, -1) + alphabet[(last & ~((1 << unusedBits) - 1)) | low],
  )
    .filter((candidate) => candidate !== signature)
    .filter((candidate) => Buffer.from(candidate, 'base64url').equals(bytes));
  expect(sameBytes.length).toBeGreaterThan(0);
  const head = token.slice(0, -signature.length);
  return [`${token}=`, `${token}==`, ...sameBytes.map((candidate) => head + candidate)];
}
