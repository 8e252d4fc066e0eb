import {z} from 'zod';

/** The full schema of a stored session; see sessionShape for why it is loaded only on demand. */
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
  /** docker's identity token for this registry (hub-auth's refresh token), with its times in seconds since the epoch. */
  identityToken: z.object({token: z.string().min(1), issuedAt: z.number(), expiresAt: z.number()}).optional(),
});
