import {finiteNumber, object, optional, string, type ShapeOf} from '@hub/common/json-shape';

/** What hub keeps for one registry after a login: the provider's tokens and who they belong to. */
export const sessionShape = object({
  registry: string(),
  issuer: string(),
  clientId: string(),
  account: string(),
  subject: string(),
  accessToken: string({nonEmpty: true}),
  refreshToken: optional(string({nonEmpty: true})),
  /** A robot's client secret (--client-credentials): how it gets its next token. */
  clientSecret: optional(string({nonEmpty: true})),
  /** Seconds since the epoch; absent when the provider did not say. */
  expiresAt: optional(finiteNumber),
  scope: optional(string()),
  /** docker's identity token for this registry (hub-auth's refresh token), with its times in seconds since the epoch. */
  identityToken: optional(object({token: string({nonEmpty: true}), issuedAt: finiteNumber, expiresAt: finiteNumber})),
});
export type Session = ShapeOf<typeof sessionShape>;
export type IdentityToken = NonNullable<Session['identityToken']>;

/**
 * The name of one account's session in a store: "<account>@<registry>" (a registry's name has
 * no "@"); without an account, the registry's own name, where hub kept its one session before
 * several accounts (src/session/accounts.ts moves it).
 */
export function entryName(registry: string, account: string | undefined): string {
  return account === undefined ? registry : `${account}@${registry}`;
}

export interface TokenStore {
  readonly kind: 'keychain' | 'insecure-file' | 'memory';
  /** Where the tokens are, in words for `hub status`. */
  readonly description: string;
  /** Fails (without prompting for long) when the store cannot be used at all. */
  probe(registry: string): Promise<void>;
  /** The account's session (its entryName); `account` undefined reads the entry of hub before several accounts. */
  read(registry: string, account: string | undefined): Promise<Session | undefined>;
  /** Under the session's registry and account. */
  write(session: Session): Promise<void>;
  /** True when something was removed. */
  remove(registry: string, account: string | undefined): Promise<boolean>;
}
