import type {z} from 'zod';
import {isNumber, isOptional, isRecord, isString, type JsonShape} from '../files/locked-json.js';
import type {sessionSchema} from './session-schema.js';

/** What hub keeps for one registry after a login: the provider's tokens and who they belong to. */
export type Session = z.infer<typeof sessionSchema>;

export function looksLikeSession(value: unknown): value is Session {
  return (
    isRecord(value) &&
    ['registry', 'issuer', 'clientId', 'account', 'subject', 'accessToken'].every((key) => isString(value[key])) &&
    isOptional(value.refreshToken, isString) &&
    isOptional(value.clientSecret, isString) &&
    isOptional(value.expiresAt, isNumber) &&
    isOptional(value.scope, isString) &&
    isOptional(value.identityToken, isIdentityToken)
  );
}

function isIdentityToken(value: unknown): value is NonNullable<Session['identityToken']> {
  return isRecord(value) && isString(value.token) && isNumber(value.issuedAt) && isNumber(value.expiresAt);
}

export const sessionShape: JsonShape<Session> = {
  looksValid: looksLikeSession,
  schema: async () => (await import('./session-schema.js')).sessionSchema,
};

export interface TokenStore {
  readonly kind: 'keychain' | 'insecure-file' | 'memory';
  /** Where the tokens are, in words for `hub status`. */
  readonly description: string;
  /** Fails (without prompting for long) when the store cannot be used at all. */
  probe(registry: string): Promise<void>;
  read(registry: string): Promise<Session | undefined>;
  write(session: Session): Promise<void>;
  /** True when something was removed. */
  remove(registry: string): Promise<boolean>;
}
