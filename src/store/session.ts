import {z} from 'zod';

/** What hub keeps for one registry after a login: the provider's tokens and who they belong to. */
export const sessionSchema = z.object({
  registry: z.string(),
  issuer: z.string(),
  clientId: z.string(),
  account: z.string(),
  subject: z.string(),
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1).optional(),
  /** A robot's client secret (--client-credentials): how it gets its next token. */
  clientSecret: z.string().min(1).optional(),
  /** Seconds since the epoch; absent when the provider did not say. */
  expiresAt: z.number().optional(),
  scope: z.string().optional(),
});
export type Session = z.infer<typeof sessionSchema>;

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
