import {readFile} from 'node:fs/promises';
import {parse as parseYaml} from 'yaml';
import {z} from 'zod';
import {DEFAULT_SCOPES} from '@hub/protocol/default-scopes';
import {registryAudience} from '@hub/protocol/registry-audience';
import {namespaceNameProblem} from './namespaces.js';
import {parseRobotTemplate} from './workload-claims.js';

/**
 * hub-auth's configuration: one YAML file, checked in full at start so that a mistake stops the
 * service with the field's name instead of surfacing as a refused push an hour later. Secrets may
 * stay out of the file: `{env: NAME}` or `{file: PATH}` wherever a secret goes.
 */

const secretSource = z.union([
  z.object({value: z.string().min(1)}).strict(),
  z.object({env: z.string().min(1)}).strict(),
  z.object({file: z.string().min(1)}).strict(),
]);
export type SecretSource = z.infer<typeof secretSource>;

const DEFAULT_BINDINGS_FILE = '/var/lib/hub-auth/account-bindings.json';
const DEFAULT_STORE_DIR = '/var/lib/hub-auth/store';
/** A web hub session lasts a working day by default, a week at most. */
const WEB_SESSION_SECONDS = 8 * 3600;
const WEEK_SECONDS = 7 * 24 * 3600;
const STORE_DEFAULTS = {followSymlink: false, poolSize: 10, statementTimeoutSeconds: 5};

/**
 * Where hub-auth keeps its state (store/): PostgreSQL in the process (PGlite) in dataDir, for one
 * instance, or a PostgreSQL server at `url`, which several instances share.
 */
const storeSchema = z
  .object({
    /** A PostgreSQL connection string; it holds the password, so it is a secret like the others. */
    url: z
      .union([
        z
          .string()
          .min(1)
          .transform((value) => ({value})),
        secretSource,
      ])
      .optional(),
    dataDir: z.string().min(1).optional(),
    /** Whether dataDir may be a symbolic link (store/state-path.ts says why not by default). */
    followSymlink: z.boolean().default(false),
    /** PEM files for TLS to the server: the CA that signed its certificate, and a client certificate and key where it asks for one. */
    tls: z.object({ca: secretSource.optional(), certificate: secretSource.optional(), key: secretSource.optional()}).strict().optional(),
    /** Connections to the server at most, per instance: a bounded pool. */
    poolSize: z.number().int().min(1).max(100).default(STORE_DEFAULTS.poolSize),
    /** A statement (and a connection attempt) that takes longer fails: the request gets 503, never waits for ever. */
    statementTimeoutSeconds: z.number().min(0.1).max(60).default(STORE_DEFAULTS.statementTimeoutSeconds),
  })
  .strict()
  .refine((store) => !(store.url && store.dataDir), {
    path: ['dataDir'],
    message: 'cannot be set with store.url: the state is either in a PostgreSQL server (url) or embedded in this directory (dataDir)',
  })
  .refine((store) => store.url || !store.tls, {path: ['tls'], message: 'is for a PostgreSQL server: set store.url too'})
  .transform((store) => (store.url ? store : {...store, dataDir: store.dataDir ?? DEFAULT_STORE_DIR}));
export type StoreConfig = z.infer<typeof storeSchema>;

const asymmetricAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

const aclRule = z
  .object({
    match: z
      .object({
        account: z.string().optional(),
        group: z.string().optional(),
        name: z.string().optional(),
        type: z.string().optional(),
        anonymous: z.boolean().optional(),
      })
      .strict(),
    actions: z.array(z.string().min(1)).min(1),
    comment: z.string().optional(),
  })
  .strict();

const audienceList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((a) => (Array.isArray(a) ? a : [a]));

/**
 * A workload issuer (workloads/): a CI platform or a cluster whose OIDC tokens are robots here,
 * apart from the identity provider people sign in at. Its robots are
 * `workloads/<name>/<robot, filled in from the token's claims>` (workload-claims.ts).
 */
const workloadIssuer = z
  .object({
    /** The issuer's own namespace under workloads/: one path component. */
    name: z.string().refine((name) => namespaceNameProblem(name) === undefined, 'must be a repository path component'),
    /** The tokens' `iss`; its keys come from its OpenID discovery unless jwksUrl or jwksFile says where. */
    issuer: z.url(),
    jwksUrl: z.url().optional(),
    /** A JWKS document on disk: a cluster's `kubectl get --raw /openid/v1/jwks`, for an issuer hub-auth cannot reach. */
    jwksFile: z.string().min(1).optional(),
    /** Accepted `aud` values. Default: this registry's own audience, as for people. */
    audience: audienceList.optional(),
    /** Claims the token must carry with exactly these values (text), e.g. `repository_owner: acme`. */
    requiredClaims: z.record(z.string().min(1), z.string()).default({}),
    /** The robot name template, e.g. `{repository:2}` or `{kubernetes.io.namespace}/{kubernetes.io.serviceaccount.name}`. */
    robot: z.string().superRefine((text, context) => {
      try {
        parseRobotTemplate(text);
      } catch (error) {
        context.addIssue({code: 'custom', message: (error as Error).message});
      }
    }),
    algorithms: z.array(z.enum(asymmetricAlgorithms)).min(1).default(['RS256', 'ES256', 'PS256', 'EdDSA']),
    clockSkewSeconds: z.number().int().min(0).max(120).default(30),
    /** A token that lives longer (exp − iat) is refused: workload tokens are short-lived. */
    maxLifetimeSeconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600)
      .default(24 * 3600),
  })
  .strict()
  .refine((issuer) => !(issuer.jwksUrl && issuer.jwksFile), {
    path: ['jwksFile'],
    message: 'cannot be set with jwksUrl: the keys come from one place',
  });

const workloadsSchema = z
  .object({issuers: z.array(workloadIssuer).default([])})
  .strict()
  .refine((workloads) => new Set(workloads.issuers.map((issuer) => issuer.name)).size === workloads.issuers.length, {
    path: ['issuers'],
    message: 'two issuers have the same name: each owns its own namespace under workloads/',
  })
  .refine((workloads) => new Set(workloads.issuers.map((issuer) => issuer.issuer)).size === workloads.issuers.length, {
    path: ['issuers'],
    message: 'two entries have the same issuer: a token must have one meaning',
  });

const configSchema = z
  .object({
    listen: z
      .object({
        host: z.string().default('0.0.0.0'),
        port: z.number().int().min(0).max(65_535).default(5001),
        /** A client that has not sent its whole request by then is cut off (slow-client attacks). */
        requestTimeoutSeconds: z.number().min(1).max(300).default(30),
        /** Open connections at once; past it new ones are closed at once (each costs memory and a descriptor). */
        maxConnections: z.number().int().min(1).max(1_000_000).default(2048),
        /**
         * Addresses or CIDR ranges of proxies in front of hub-auth whose X-Forwarded-For is believed:
         * the client address decides whose turn it is at the identity provider.
         */
        trustProxy: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .default({host: '0.0.0.0', port: 5001, requestTimeoutSeconds: 30, maxConnections: 2048, trustProxy: []}),
    /** /metrics, /healthz and /readyz: a listener apart from the token endpoint, loopback unless told. */
    monitoring: z
      .object({host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65_535).default(5002)})
      .strict()
      .default({host: '127.0.0.1', port: 5002}),
    /** The `service` the registry names in its challenge; the tokens' audience. */
    service: z.string().min(1),
    /** The tokens' issuer: the registry's `auth.token.issuer`. */
    issuer: z.string().min(1).default('hub-auth'),
    tokenLifetimeSeconds: z.number().int().min(30).max(3600).default(300),
    /**
     * How long a registry token is handed out again for the same account and access instead of
     * signed anew (0: never). Clients are told the time it has left, so it stays short.
     */
    tokenReuseSeconds: z.number().int().min(0).max(60).default(5),
    refreshTokens: z
      .object({
        enabled: z.boolean().default(true),
        lifetimeSeconds: z
          .number()
          .int()
          .min(60)
          .max(30 * 24 * 3600)
          .default(8 * 3600),
        /**
         * An identity token is traded only while its session was re-checked at the identity
         * provider (a valid access token of that person passed) within this window.
         */
        revalidateSeconds: z
          .number()
          .int()
          .min(60)
          .max(30 * 24 * 3600)
          .optional(),
      })
      .strict()
      // An hour, or the whole lifetime when that is shorter: a shorter lifetime alone does not make a configuration wrong.
      .transform((refresh) => ({...refresh, revalidateSeconds: refresh.revalidateSeconds ?? Math.min(3600, refresh.lifetimeSeconds)}))
      .refine((refresh) => refresh.revalidateSeconds <= refresh.lifetimeSeconds, {
        path: ['revalidateSeconds'],
        message: 'must be at most refreshTokens.lifetimeSeconds',
      })
      .default({enabled: true, lifetimeSeconds: 8 * 3600, revalidateSeconds: 3600}),
    signing: z
      .object({
        key: secretSource,
        certificate: secretSource,
        keyId: z.enum(['libtrust', 'thumbprint']).default('libtrust'),
        x5c: z.boolean().default(true),
        /** Further certificates whose keys still verify: the previous key during a rotation. */
        publish: z.array(secretSource).default([]),
      })
      .strict(),
    oidc: z
      .object({
        issuer: z.url(),
        /**
         * Accepted `aud` values of access tokens. Default: this registry's own audience
         * (`https://` + registry.host), the one hub asks for when someone logs in to it.
         */
        audience: audienceList.optional(),
        algorithms: z.array(z.enum(asymmetricAlgorithms)).min(1).default(['RS256', 'ES256', 'PS256', 'EdDSA']),
        clockSkewSeconds: z.number().int().min(0).max(300).default(30),
        usernameClaim: z.string().min(1).default('preferred_username'),
        groupsClaim: z.string().min(1).default('groups'),
        jwksUri: z.url().optional(),
        /**
         * Endpoints named by the operator, over what the provider's metadata (OpenID discovery and
         * RFC 8414) says: for a provider that leaves one out of both.
         */
        endpoints: z.object({introspection: z.url().optional(), userinfo: z.url().optional()}).strict().default({}),
        /** For opaque access tokens (RFC 7662), with this service's own confidential client. */
        introspection: z
          .object({
            clientId: z.string().min(1),
            clientSecret: secretSource,
            /**
             * For providers whose introspection answers name no `aud`: accept such an answer when
             * the token was issued to one of acceptedClientIds. Off by default, because then a
             * token asked for another registry passes here too.
             */
            allowMissingAudience: z.boolean().default(false),
            acceptedClientIds: z.array(z.string().min(1)).min(1).optional(),
            /** How long the provider's "active" is believed: a token revoked there works here at most this long. */
            cacheActiveSeconds: z.number().int().min(0).max(300).default(30),
            /**
             * Accept only answers that call the token an access token (token_type Bearer, or typ,
             * token_use): refresh tokens are active too. false for a provider that says nothing.
             */
            requireTokenType: z.boolean().default(true),
          })
          .strict()
          .refine((introspection) => !introspection.allowMissingAudience || introspection.acceptedClientIds, {
            path: ['acceptedClientIds'],
            message: 'is required with allowMissingAudience: it names the clients whose tokens are accepted without an audience',
          })
          .optional(),
        /**
         * For providers whose access tokens are opaque and that offer no introspection (Google):
         * such a token is checked by calling UserInfo with it. UserInfo does not say for whom the
         * token was issued, so any application the user gave a token to could use it here: the
         * operator accepts that in so many words (acceptTokensIssuedToAnyClient: true).
         */
        userinfo: z
          .object({
            acceptTokensIssuedToAnyClient: z.literal(true, {
              error:
                'must be true: UserInfo cannot tell whether a token was issued for this registry, so accepting that is your explicit choice (see SECURITY.md)',
            }),
            /** How long UserInfo's answer is believed: a token revoked at the provider works here at most this long. */
            cacheActiveSeconds: z.number().int().min(0).max(300).default(30),
          })
          .strict()
          .optional(),
        timeoutSeconds: z.number().min(1).max(60).default(10),
        /**
         * Back-channel logout (http/routes/backchannel-logout.ts): the client ids a logout token's
         * `aud` may name. Default: client.clientId and client.deviceClientId, the clients people
         * sign in to hub with, and web.clientId when the web hub is on: the clients the provider sends them for.
         */
        backchannelLogout: z
          .object({clientIds: z.array(z.string().min(1)).min(1).optional()})
          .strict()
          .default({}),
      })
      .strict()
      .refine((oidc) => !(oidc.introspection && oidc.userinfo), {
        path: ['userinfo'],
        message: 'cannot be set with oidc.introspection: opaque tokens are checked one way, introspection where the provider offers it',
      }),
    /** What `hub login REGISTRY` learns from /.well-known/hub-configuration. */
    client: z
      .object({
        clientId: z.string().min(1),
        /** Published for `hub login --device` where the provider wants a client of its own for the device flow. */
        deviceClientId: z.string().min(1).optional(),
        scopes: z.string().min(1).default(DEFAULT_SCOPES),
        audience: z.string().optional(),
      })
      .strict(),
    registry: z
      .object({
        host: z.string().min(1),
        /** Where hub-auth itself reaches the registry, for the filtered repository listing (http/routes/repositories.ts). */
        url: z.url().optional(),
      })
      .strict(),
    /** Account names: see bindings.ts and namespaces.ts. */
    accounts: z
      .object({
        /** The bindings file of earlier versions: imported into the store once, at its first start, and never written. */
        bindingsFile: z.string().min(1).default(DEFAULT_BINDINGS_FILE),
        /** Gone with the file's writes: the store's data directory is what may not be a link now. */
        followBindingsSymlink: z
          .never({
            error:
              'is gone: hub-auth no longer writes the bindings file. Use store.followSymlink: true if store.dataDir is a symbolic link of yours',
          })
          .optional(),
        /** Names no user may have, on top of groups, robots, workloads, library and public. */
        reservedNames: z
          .array(z.string().refine((name) => namespaceNameProblem(name) === undefined, 'must be a repository path component'))
          .default([]),
        /**
         * Robots' client ids (client credentials) at a provider whose introspection answer names
         * the client but neither `sub` nor a username: such a token is the robot `robots/<id>`.
         */
        robotClients: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .default({bindingsFile: DEFAULT_BINDINGS_FILE, reservedNames: [], robotClients: []}),
    store: storeSchema.default({...STORE_DEFAULTS, dataDir: DEFAULT_STORE_DIR}),
    /**
     * The admin API on the monitoring listener (http/routes/admin.ts) and the commands that use it:
     * its bearer credential, or, without one, the file the instance writes a generated one to
     * (admin-credential.ts says where by default).
     */
    admin: z
      .object({credential: secretSource.optional(), credentialFile: z.string().min(1).optional()})
      .strict()
      .default({}),
    /**
     * The web hub (packages/hub-web), on the token listener under /web: people sign in at the
     * provider with a confidential client of its own and see what the policy lets them pull.
     */
    web: z
      .object({
        /** Default: on once the section names its client (clientId); `false` turns it off with the client kept. */
        enabled: z.boolean().optional(),
        clientId: z.string().min(1).optional(),
        clientSecret: secretSource.optional(),
        /** Where browsers reach this listener (https://HOST, or http on loopback): the redirect URI is publicUrl/web/callback. */
        publicUrl: z.url().optional(),
        /** Where the web hub reads the registry; default registry.url, else https://registry.host. */
        registryUrl: z.url().optional(),
        /** A web session ends this long after sign-in, or at sign-out or a back-channel logout before. */
        sessionLifetimeSeconds: z.number().int().min(300).max(WEEK_SECONDS).default(WEB_SESSION_SECONDS),
      })
      .strict()
      .transform((web) => ({...web, enabled: web.enabled ?? web.clientId !== undefined}))
      .superRefine((web, context) => {
        if (!web.enabled) return;
        for (const field of ['clientId', 'clientSecret', 'publicUrl'] as const)
          if (web[field] === undefined)
            context.addIssue({
              code: 'custom',
              path: [field],
              message: 'is required for the web hub (on with web.enabled: true or a web.clientId; README, The web hub)',
            });
      })
      .default({enabled: false, sessionLifetimeSeconds: WEB_SESSION_SECONDS}),
    /**
     * The registry's notifications (distribution's `notifications.endpoints`) of pushes, pulls and
     * deletes, posted to /registry/notifications with this bearer token: the web hub's activity.
     */
    registryNotifications: z.object({token: secretSource}).strict().optional(),
    policy: z
      .object({publicRepositories: z.array(z.string().min(1)).default([]), rules: z.array(aclRule).optional()})
      .strict()
      .default({publicRepositories: []}),
    cacheSize: z.number().int().min(0).max(1_000_000).default(10_000),
    /** Trusted workload issuers: CI jobs and pods that push and pull with their platform's token. */
    workloads: workloadsSchema.default({issuers: []}),
  })
  .strict()
  .refine((config) => !config.workloads.issuers.some((issuer) => issuer.issuer === config.oidc.issuer), {
    path: ['workloads', 'issuers'],
    message: "names oidc.issuer: the people's identity provider cannot be a workload issuer too",
  })
  .refine((config) => config.tokenReuseSeconds * 2 <= config.tokenLifetimeSeconds, {
    path: ['tokenReuseSeconds'],
    message: 'must be at most half of tokenLifetimeSeconds: a reused token must leave its holder most of its lifetime',
  })
  .transform((config) => {
    const audience = [registryAudience(config.registry.host)];
    return {
      ...config,
      oidc: {...config.oidc, audience: config.oidc.audience ?? audience},
      workloads: {issuers: config.workloads.issuers.map((issuer) => ({...issuer, audience: issuer.audience ?? audience}))},
    };
  });

export type TokenServiceConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseConfig(data: unknown, source = 'the configuration'): TokenServiceConfig {
  const parsed = configSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  throw new ConfigError(`${source} is not valid:\n${problems.join('\n')}`);
}

export async function loadConfig(path: string): Promise<TokenServiceConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = parseYaml(text, {maxAliasCount: 100});
  } catch (error) {
    throw new ConfigError(`${path} is not valid YAML: ${(error as Error).message}`);
  }
  return parseConfig(data, path);
}

/** A secret's value; the error names where it was looked for, never what it holds. */
export async function readSecret(source: SecretSource, field: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if ('value' in source) return source.value;
  if ('env' in source) {
    const value = env[source.env];
    if (!value) throw new ConfigError(`${field}: environment variable ${source.env} is not set`);
    return value;
  }
  try {
    return (await readFile(source.file, 'utf8')).trim();
  } catch (error) {
    throw new ConfigError(`${field}: cannot read ${source.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
