import type {FastifyBaseLogger} from 'fastify';

/**
 * What hub-auth gives the web hub: who a person is, what the policy lets them pull and the
 * registry tokens for it come through these functions, so that the web hub knows nothing of
 * hub-auth's inside.
 */

/**
 * A registry token the policy allowed, signed when first asked for and the same text after: a page
 * whose reads all come from memory signs nothing.
 */
export type LazyToken = () => string;

/** Who is signed in, as the policy sees them. */
export interface Person {
  issuer: string;
  subject: string;
  account: string;
  groups: readonly string[];
}

/** The web sessions, in hub-auth's store: any instance serves any of them. Ids are stored hashed. */
export interface WebSessionStore {
  create(session: {
    idHash: string;
    person: Person;
    providerSession: string | undefined;
    nowSeconds: number;
    expiresAt: number;
  }): Promise<void>;
  /** The person of a session that has neither ended nor expired. */
  find(idHash: string, nowSeconds: number): Promise<Person | undefined>;
  end(idHash: string, nowSeconds: number): Promise<void>;
}

/** A manifest pushed (or deleted) as the registry told hub-auth: when, by which account, under which tag. */
export interface RegistryEvent {
  action: 'push' | 'delete';
  /** Seconds since the epoch, the registry's clock. */
  at: number;
  tag: string | undefined;
  digest: string;
  size: number;
  /** The account of the registry token it was done with; undefined when the registry named none. */
  by: string | undefined;
}

/** What the registry's notifications (hub-auth's store) say of repositories. */
export interface RegistryActivity {
  /** The newest events of a repository, newest first, and how many times its manifests were pulled. */
  ofRepository(repository: string, limit: number): Promise<{events: RegistryEvent[]; pulls: number}>;
  /** Each named repository's last push, for those that have one. */
  lastPushes(repositories: readonly string[]): Promise<Map<string, RegistryEvent>>;
}

/** Who a rule of the policy lets act under a namespace (hub-auth's policy/acl.ts reads its rules into these). */
export type Grantee =
  | {kind: 'anonymous'}
  | {kind: 'signed-in'; accounts?: string; groups?: string}
  | {kind: 'account'; name: string}
  | {kind: 'group'; name: string};

export interface NamespaceGrant {
  who: Grantee;
  actions: string[];
  /** The names under the namespace it covers, when not all of them: the rule's glob. */
  names?: string;
}

export interface WebDeps {
  /** Where browsers reach hub-auth: the origin of the redirect URI and of the cookies. */
  publicUrl: URL;
  oidc: {
    issuer: string;
    clientId: string;
    clientSecret: string;
    /** The sign-in request's scope and audience, as the CLI's login asks for them. */
    authorizationParameters: Record<string, string>;
  };
  /** Who the provider's access token is for, checked as a token request's is; rejects with a message for the person. */
  personOf(accessToken: string, clientAddress: string): Promise<Person>;
  /** The repositories the policy lets the person pull, from the registry's catalog. */
  pullableRepositories(person: Person): Promise<string[]>;
  /** A registry token to pull this repository, or undefined when the policy does not let the person pull it. */
  pullToken(person: Person, repository: string): LazyToken | undefined;
  /** A registry token to delete from this repository (pull and delete), or undefined when the policy does not let the person delete there. */
  deleteToken(person: Person, repository: string): LazyToken | undefined;
  /** Whether the policy lets the person push to this repository (the page says so; the web hub never pushes). */
  mayPush(person: Person, repository: string): boolean;
  /** Who the policy lets pull and push under a namespace, rule by rule in its order. */
  namespaceAccess(namespace: string): NamespaceGrant[];
  registry: {
    /** Where hub-auth reaches the registry. */
    url: URL;
    /** The name people pull by (`docker pull HOST/NAME`). */
    host: string;
  };
  sessions: WebSessionStore;
  activity: RegistryActivity;
  sessionLifetimeSeconds: number;
  nowSeconds(): number;
  logger: FastifyBaseLogger;
}
