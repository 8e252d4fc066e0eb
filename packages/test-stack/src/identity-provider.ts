import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import {createServer as createTlsServer, type Server as TlsServer} from 'node:https';
import type {AddressInfo} from 'node:net';
import {exportJWK, generateKeyPair, SignJWT, type JWTPayload} from 'jose';
import Provider, {type Configuration} from 'oidc-provider';

/**
 * A real, certified OpenID provider (node-oidc-provider) for the tests and the demo, with login
 * and consent pages of its own: the library's development pages accept any password.
 */

export interface TestUser {
  username: string;
  password: string;
  name: string;
  email: string;
  groups: string[];
  /** What the provider sends as preferred_username, when the user chose one other than the login name. */
  preferredUsername?: string;
}

export const USERS: TestUser[] = [
  {username: 'alice', password: 'alice-password', name: 'Alice Liddell', email: 'alice@example.test', groups: ['dev']},
  {username: 'bob', password: 'bob-password', name: 'Bob Builder', email: 'bob@example.test', groups: ['ops']},
];

/**
 * People whose names collide with alice's namespace, a group's, a robot's or a reserved one: the
 * namespace-takeover tests sign in as them. They are real users of the provider, with their own
 * subjects, like anyone an identity provider lets register or rename themselves.
 */
export const LOOKALIKE_USERS: TestUser[] = [
  ...['Alice', 'alice_', '.alice.', 'alice@'].map((username) => ({
    username,
    password: 'lookalike-password',
    name: 'Not Alice',
    email: 'x@example.test',
    groups: [],
  })),
  {
    username: 'mallory',
    preferredUsername: 'alice',
    password: 'mallory-password',
    name: 'Mallory',
    email: 'mallory@example.test',
    groups: [],
  },
  {username: 'public', password: 'public-password', name: 'P. Ublic', email: 'public@example.test', groups: []},
  {username: 'dev', password: 'dev-password', name: 'Dev Eloper', email: 'dev@example.test', groups: []},
  {username: 'ci-robot', password: 'ci-robot-password', name: 'Cee Robot', email: 'ci@example.test', groups: []},
];

const ALL_USERS = [...USERS, ...LOOKALIKE_USERS];

export const CLI_CLIENT_ID = 'hub-cli';
/** A machine account that pushes from CI with the client credentials grant. */
export const ROBOT_CLIENT = {id: 'ci-robot', secret: 'ci-robot-secret-not-secret'};
/** The web hub's confidential client (hub-auth's web.clientId), for the browser's sign-in at hub-auth. */
export const WEB_CLIENT = {id: 'hub-web', secret: 'hub-web-secret-not-secret'};
/** hub-auth's confidential client, for introspecting opaque access tokens. */
export const INTROSPECTION_CLIENT = {id: 'hub-auth', secret: 'hub-auth-introspection-secret'};
/**
 * A public client registered with only the scopes `openid read write`, as at providers whose
 * default scopes are `read`/`write`: hub's default scopes get `invalid_scope`.
 */
export const READ_WRITE_CLIENT = {id: 'hub-cli-read-write', scope: 'openid read write'};

/** How the provider behaves from now on; each field stays as set until it is set again. */
export interface ProviderBehaviour {
  /** Access token lifetime in seconds for tokens issued from now on. */
  accessTokenTtl: number;
  /** Makes every request fail by closing the connection while true: a provider that is down. */
  down: boolean;
  /** Answers every request this much later: a provider that is slow. */
  delayMs: number;
  /** Device codes issued from now on expire after this many seconds. */
  deviceCodeTtl: number;
  /** The next this many token requests are answered `slow_down`, as a provider that wants slower polling. */
  slowDowns: number;
  /** Access tokens asked for this resource are opaque (introspected) instead of JWTs. */
  opaqueResource: string | undefined;
  /**
   * Metadata fields the provider leaves out: from its OpenID discovery document only (`openid`),
   * as providers that publish introspection and revocation in their RFC 8414 metadata only, or
   * from both documents (`everywhere`), as providers without introspection.
   */
  hiddenMetadata: {openid?: string[]; everywhere?: string[]};
  /** Introspection answers leave these claims out (e.g. `sub`, which RFC 7662 makes optional) and add these. */
  introspectionShape: {omit?: string[]; add?: Record<string, unknown>};
}

export interface IdentityProvider {
  issuer: string;
  clientId: string;
  provider: Provider;
  /** Changes how the provider behaves from now on. */
  behave(change: Partial<ProviderBehaviour>): void;
  /** Successful token endpoint grants by grant type. */
  grants: Record<string, number>;
  /** Requests that reached the provider, by path (counted even while it is down). */
  requests: Map<string, number>;
  /** An opaque access token for a user, issued directly (as after a sign-in) for this audience, for load tests. */
  issueOpaqueToken(username: string, ttlSeconds?: number, audience?: string): Promise<string>;
  /** When each token-endpoint request arrived (ms since the epoch). */
  tokenRequestTimes: number[];
  /** Signs a JWT with the provider's own signing key, for tests that need tokens with odd claims (or another `typ` header). */
  signWithProviderKey(payload: JWTPayload, typ?: string): Promise<string>;
  /**
   * The stack's "disable this person": what an administrator's disable does at a provider that
   * sends back-channel logout, here oidc-provider's own `Client#backchannelLogout(sub, sid)` for the
   * hub client, which signs a logout token and POSTs it to the client's backchannel_logout_uri.
   * Rejects when the receiver does not answer 200.
   */
  disablePerson(username: string): Promise<void>;
  /** Each back-channel logout the provider sent (end-session or disablePerson): to whom, and whether it was answered 200. */
  backchannelLogouts: Array<{subject: string; providerSession: string | undefined; error?: string}>;
  stop(): Promise<void>;
}

/** The subject is not the username, so hub has to find the name in the claims. */
export const subjectOf = (username: string) => `sub-${username}-7f3a`;

export interface IdentityProviderOptions {
  /**
   * The provider serves https under `tls.hostname` (which must point at loopback for the client,
   * e.g. through a proxy), with a certificate of a private CA: a company's provider.
   */
  tls?: {hostname: string; key: string; cert: string};
  /** An issuer with a path (`/realms/dev`, as Keycloak's): the provider is mounted there. */
  path?: string;
  /**
   * Metadata the provider publishes only in its RFC 8414 document
   * (`/.well-known/oauth-authorization-server` + path, §3) and not in its OpenID one, as some do.
   */
  onlyInOAuthMetadata?: string[];
  /** Endpoints the provider serves but lists in neither document: only configuration can name them. */
  unlisted?: string[];
  /** false: no RFC 7009 revocation endpoint at all. */
  revocation?: boolean;
  /**
   * Token, device and revocation requests must say `Content-Type: application/x-www-form-urlencoded`
   * exactly, as glewlwyd's HTTP library (ulfius) compares it; anything else is refused with 400.
   */
  strictFormContentType?: boolean;
  /**
   * The hub client's backchannel_logout_uri (OIDC Back-Channel Logout 1.0, with
   * backchannel_logout_session_required, so that logout tokens from a sign-out name the provider
   * session): where hub-auth will listen, known before it starts (registry-stack.ts reserves its port).
   */
  backchannelLogoutUri?: string;
  /**
   * Where hub-auth's web hub is (its web.publicUrl): the web client is registered with its
   * callback, its sign-in page as the post-logout redirect, and the back-channel logout URI.
   */
  webHubUrl?: string;
}

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

export async function startIdentityProvider(options: IdentityProviderOptions = {}): Promise<IdentityProvider> {
  const server = options.tls ? createTlsServer({key: options.tls.key, cert: options.tls.cert}) : createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const mount = options.path ?? '';
  const issuer = `${options.tls ? `https://${options.tls.hostname}:${port}` : `http://127.0.0.1:${port}`}${mount}`;
  const oauthMetadataPath = `/.well-known/oauth-authorization-server${mount}`;
  /** Requests for the RFC 8414 document, which the provider answers with its full metadata. */
  const oauthMetadataRequests = new WeakSet<IncomingMessage>();
  // What the provider leaves out of its documents: the options say it from the start, behave() from then on.
  const behaviour: ProviderBehaviour = {
    accessTokenTtl: 600,
    down: false,
    delayMs: 0,
    deviceCodeTtl: 600,
    slowDowns: 0,
    opaqueResource: undefined,
    hiddenMetadata: {openid: options.onlyInOAuthMetadata, everywhere: options.unlisted},
    introspectionShape: {},
  };
  const tokenRequestTimes: number[] = [];
  const requests = new Map<string, number>();
  const grants: Record<string, number> = {};
  // A key of our own instead of the quick-start one, so tests can sign as the provider does.
  const {privateKey} = await generateKeyPair('RS256', {extractable: true});
  const signingJwk = {...(await exportJWK(privateKey)), kid: 'test-provider-key', alg: 'RS256', use: 'sig'};

  const configuration: Configuration = {
    clients: [
      {
        client_id: CLI_CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
        // Native loopback redirects match on any port (RFC 8252 §7.3).
        redirect_uris: ['http://127.0.0.1/callback'],
        ...(options.backchannelLogoutUri
          ? {backchannel_logout_uri: options.backchannelLogoutUri, backchannel_logout_session_required: true}
          : {}),
      },
      {
        client_id: ROBOT_CLIENT.id,
        client_secret: ROBOT_CLIENT.secret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
      ...(options.webHubUrl
        ? [
            {
              client_id: WEB_CLIENT.id,
              client_secret: WEB_CLIENT.secret,
              token_endpoint_auth_method: 'client_secret_basic' as const,
              grant_types: ['authorization_code'],
              response_types: ['code' as const],
              redirect_uris: [`${options.webHubUrl}/web/callback`],
              post_logout_redirect_uris: [`${options.webHubUrl}/web/`],
              ...(options.backchannelLogoutUri
                ? {backchannel_logout_uri: options.backchannelLogoutUri, backchannel_logout_session_required: true}
                : {}),
            },
          ]
        : []),
      {
        client_id: INTROSPECTION_CLIENT.id,
        client_secret: INTROSPECTION_CLIENT.secret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: READ_WRITE_CLIENT.id,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/callback'],
        scope: READ_WRITE_CLIENT.scope,
      },
    ],
    async findAccount(_ctx, id) {
      const user = ALL_USERS.find((u) => subjectOf(u.username) === id);
      if (!user) return undefined;
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            preferred_username: user.preferredUsername ?? user.username,
            name: user.name,
            email: user.email,
            email_verified: true,
            groups: user.groups,
          };
        },
      };
    },
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups', 'read', 'write'],
    features: {
      devInteractions: {enabled: false},
      revocation: {enabled: options.revocation ?? true},
      introspection: {enabled: true},
      userinfo: {enabled: true},
      deviceFlow: {enabled: true},
      clientCredentials: {enabled: true},
      backchannelLogout: {enabled: true},
      resourceIndicators: {
        enabled: true,
        // No resource asked: an opaque token for userinfo. A registry's (https://HOST, as hub asks):
        // a JWT with that registry as its only audience, as from a provider where every registry
        // is a registered API — hub-auth must refuse those of other registries.
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (!indicator.startsWith('https://')) throw new Error(`unknown resource ${indicator}`);
          if (indicator === behaviour.opaqueResource) return {scope: '', audience: indicator, accessTokenFormat: 'opaque'};
          return {scope: '', audience: indicator, accessTokenFormat: 'jwt', jwt: {sign: {alg: 'RS256'}}};
        },
      },
    },
    // Keycloak puts the username and groups into access tokens; hub-auth reads them there.
    extraTokenClaims: async (_ctx, token) => {
      const accountId = 'accountId' in token ? token.accountId : undefined;
      const user = ALL_USERS.find((u) => subjectOf(u.username) === accountId);
      return user ? {preferred_username: user.preferredUsername ?? user.username, groups: user.groups} : undefined;
    },
    // Keycloak, Okta and Dex hand a native client a refresh token without a consent prompt.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: {
      AccessToken: () => behaviour.accessTokenTtl,
      IdToken: 600,
      RefreshToken: 24 * 3600,
      Grant: 24 * 3600,
      Session: 24 * 3600,
      Interaction: 600,
      AuthorizationCode: 60,
      DeviceCode: () => behaviour.deviceCodeTtl,
    },
    // oidc-provider refuses to call loopback addresses (its SSRF guard, a dispatcher it adds): the
    // stack's hub-auth, the receiver of its back-channel logouts, is on loopback; elsewhere the guard stays.
    fetch: (input, init) =>
      globalThis.fetch(
        input,
        new URL(input instanceof Request ? input.url : input).hostname === '127.0.0.1' ? withoutDispatcher(init) : init,
      ),
    cookies: {keys: ['test-cookie-key-not-secret']},
    jwks: {keys: [signingJwk]},
    interactions: {url: (_ctx, interaction) => `${mount}/interaction/${interaction.uid}`},
  };
  const provider = new Provider(issuer, configuration);
  // RFC 8628 lets the provider set the polling interval; 1 s keeps the device-flow tests short.
  provider.on('device_authorization.success', (_ctx, body: Record<string, unknown>) => {
    body.interval = 1;
  });
  // What a provider publishes and answers is its configuration: these shape the provider's own
  // documents and answers after it made them, as another provider's settings would.
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || ctx.status !== 200) return;
    // Both documents are the provider's discovery answer; the RFC 8414 one is told by its request.
    const discovery =
      ctx.path === '/.well-known/openid-configuration' ? (oauthMetadataRequests.has(ctx.req) ? 'oauth' : 'openid') : undefined;
    if (discovery) {
      for (const field of [
        ...(behaviour.hiddenMetadata.everywhere ?? []),
        ...(discovery === 'openid' ? (behaviour.hiddenMetadata.openid ?? []) : []),
      ])
        delete body[field];
    }
    if (ctx.path === '/token/introspection' && body.active === true) {
      for (const claim of behaviour.introspectionShape.omit ?? []) delete body[claim];
      Object.assign(body, behaviour.introspectionShape.add);
    }
  });
  provider.use(async (ctx, next) => {
    if (ctx.method === 'POST' && options.strictFormContentType && ctx.get('content-type') !== FORM_CONTENT_TYPE) {
      ctx.status = 400;
      ctx.body = {error: 'invalid_request', error_description: `Content-Type must be ${FORM_CONTENT_TYPE}`};
      return;
    }
    if (ctx.method === 'POST' && ctx.path === '/token') tokenRequestTimes.push(Date.now());
    if (behaviour.slowDowns > 0 && ctx.method === 'POST' && ctx.path === '/token') {
      behaviour.slowDowns -= 1;
      ctx.status = 400;
      ctx.body = {error: 'slow_down', error_description: 'poll less often'};
      return;
    }
    await next();
  });
  const backchannelLogouts: IdentityProvider['backchannelLogouts'] = [];
  provider.on('backchannel.success', (_ctx, _client, subject: string, providerSession: string | undefined) =>
    backchannelLogouts.push({subject, providerSession}),
  );
  provider.on('backchannel.error', (_ctx, error: Error, _client, subject: string, providerSession: string | undefined) =>
    backchannelLogouts.push({subject, providerSession, error: error.message}),
  );
  provider.on('grant.success', (ctx) => {
    const type = String(ctx.oidc.params?.grant_type ?? 'unknown');
    grants[type] = (grants[type] ?? 0) + 1;
  });
  provider.on('grant.error', (_ctx: unknown, error: Error & {error_detail?: string}) =>
    console.error('identity provider refused a grant:', error.message, error.error_detail),
  );
  // Silence the provider's own logging of expected client errors.
  provider.on('server_error', (_ctx, error) => console.error('identity provider server_error', error));

  const handleProvider = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    if (behaviour.down) {
      req.socket.destroy();
      return;
    }
    if (behaviour.delayMs > 0) setTimeout(() => serve(req, res), behaviour.delayMs);
    else serve(req, res);
  });
  function serve(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path === oauthMetadataPath) {
      // RFC 8414 §3: the well-known segment goes before the issuer's path, outside the mount.
      oauthMetadataRequests.add(req);
      req.url = `${mount}/.well-known/openid-configuration`;
    }
    if (!req.url?.startsWith(`${mount}/`)) {
      res.writeHead(404, {'content-type': 'text/plain'}).end('not found');
      return;
    }
    // Mounted as Express would: the provider builds its URLs from originalUrl minus url.
    (req as IncomingMessage & {originalUrl?: string}).originalUrl = req.url;
    req.url = req.url.slice(mount.length);
    if (req.url.startsWith('/interaction/')) {
      interaction(provider, mount, req, res).catch((error: unknown) => {
        res.writeHead(500, {'content-type': 'text/plain'}).end(`interaction failed: ${(error as Error).message}`);
      });
      return;
    }
    handleProvider(req, res);
  }

  return {
    issuer,
    clientId: CLI_CLIENT_ID,
    provider,
    grants,
    requests,
    tokenRequestTimes,
    issueOpaqueToken: async (username, ttlSeconds = 600, audience) => {
      const client = await provider.Client.find(CLI_CLIENT_ID);
      if (!client) throw new Error('the CLI client is missing');
      const grant = new provider.Grant({accountId: subjectOf(username), clientId: CLI_CLIENT_ID});
      grant.addOIDCScope('openid profile');
      const token = new provider.AccessToken({
        accountId: subjectOf(username),
        client,
        grantId: await grant.save(),
        gty: 'authorization_code',
        scope: 'openid profile',
        expiresIn: ttlSeconds,
      });
      if (audience) token.setAudience(audience);
      return token.save();
    },
    behave: (change) => {
      Object.assign(behaviour, change);
    },
    backchannelLogouts,
    async disablePerson(username) {
      const client = await provider.Client.find(CLI_CLIENT_ID);
      if (!client?.backchannelLogoutUri)
        throw new Error('the hub client has no backchannel_logout_uri (IdentityProviderOptions.backchannelLogoutUri)');
      const subject = subjectOf(username);
      try {
        // Public in oidc-provider (lib/models/client.js, and end_session.js's own call), missing from its types.
        await (client as unknown as {backchannelLogout(sub: string, sid?: string): Promise<void>}).backchannelLogout(subject);
        backchannelLogouts.push({subject, providerSession: undefined});
      } catch (error) {
        backchannelLogouts.push({subject, providerSession: undefined, error: (error as Error).message});
        throw error;
      }
    },
    signWithProviderKey: (payload, typ = 'at+jwt') =>
      new SignJWT(payload).setProtectedHeader({alg: 'RS256', kid: signingJwk.kid, typ}).sign(privateKey),
    stop: () => closeServer(server),
  };
}

async function interaction(provider: Provider, mount: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const {uid, prompt, params} = details;

  if (req.method === 'POST') {
    const form = new URLSearchParams(await readBody(req));
    if (form.get('action') === 'deny') {
      await provider.interactionFinished(
        req,
        res,
        {error: 'access_denied', error_description: 'The user refused to sign in.'},
        {mergeWithLastSubmission: false},
      );
      return;
    }
    const user = ALL_USERS.find((u) => u.username === form.get('username') && u.password === form.get('password'));
    if (!user) return loginPage(res, mount, uid, String(params.client_id), 'Wrong username or password.');
    await provider.interactionFinished(req, res, {login: {accountId: subjectOf(user.username)}}, {mergeWithLastSubmission: false});
    return;
  }

  if (prompt.name === 'login') return loginPage(res, mount, uid, String(params.client_id));

  // Consent for hub's own client is implied: grant what it asked for.
  const accountId = details.session?.accountId;
  if (!accountId) throw new Error('consent without a session');
  const grant = details.grantId
    ? ((await provider.Grant.find(details.grantId)) ?? new provider.Grant({accountId, clientId: String(params.client_id)}))
    : new provider.Grant({accountId, clientId: String(params.client_id)});
  const missing = prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
    grant.addResourceScope(indicator, scopes.join(' '));
  await provider.interactionFinished(req, res, {consent: {grantId: await grant.save()}}, {mergeWithLastSubmission: true});
}

function loginPage(res: ServerResponse, mount: string, uid: string, clientId: string, error?: string): void {
  res.writeHead(200, {'content-type': 'text/html; charset=utf-8'});
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in to ${escape(clientId)}</h1>${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="${escape(mount)}/interaction/${escape(uid)}">
<label>Username <input name="username" autocomplete="username" autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit" name="action" value="login">Sign in</button>
<button type="submit" name="action" value="deny">Cancel</button>
</form></body></html>`);
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return body;
}

function withoutDispatcher(init: RequestInit | undefined): RequestInit | undefined {
  if (!init) return init;
  const {dispatcher: _guard, ...rest} = init as RequestInit & {dispatcher?: unknown};
  return rest;
}

export function closeServer(server: Server | TlsServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
