import type {ResourceScope} from '@hub/protocol/resource-scope';
import type {Requester} from '../policy/acl.js';
import type {IssuedIdentity} from '../sessions/sessions.js';
import type {WorkloadAudit} from '../workloads/workload-tokens.js';

export type Grant = 'anonymous' | 'password' | 'refresh_token';

/**
 * One request for a registry token, whatever form it came in: the route reads it from the query
 * or the form (http/routes/token.ts), the policy decides which of its scopes the requester gets,
 * and issueRegistryToken signs that (issue-token.ts).
 */
export interface TokenRequest {
  grant: Grant;
  requester: Requester;
  scopes: readonly ResourceScope[];
  /**
   * Also hand out a refresh token (docker's `offline_token=true`, OAuth `access_type=offline`):
   * the session and token id it is issued for (identity-sessions.ts).
   */
  identity?: IssuedIdentity;
  /**
   * When the credential presented stops being good (seconds since the epoch): the identity
   * token's `exp`, or how long the provider's answer for an access token stands. A registry
   * token never outlives it, so that a credential traded at its last moment buys no extra time.
   */
  notAfter?: number;
  /** A workload token's issuer and the claims that made its robot: its audit. */
  workload?: WorkloadAudit;
}

const OUTCOMES = {400: 'bad_request', 401: 'unauthorized', 403: 'denied', 429: 'overloaded', 503: 'upstream_error'} as const;

/** hub-auth's configuration does not fit the provider: a 503 that no retry cures. */
export const MISCONFIGURED = 'misconfigured';
/** The store cannot answer (down, slow): a 503 that a retry cures once it is back. */
export const STORE_UNAVAILABLE = 'store_unavailable';

/** A token request refused, with the HTTP status and the OAuth error code it is answered with. */
export class TokenRequestError extends Error {
  readonly retryAfterSeconds?: number;
  /** For the metrics and the log: a 503 is the provider's failure or hub-auth's own load. */
  readonly outcome: string;
  /** For a refused account: a warning for the operator, with the claim and the reason. */
  readonly operatorNote?: Record<string, string>;

  constructor(
    readonly status: 400 | 401 | 403 | 429 | 503,
    readonly oauthError: string,
    message: string,
    /** retryAfterSeconds: for 429 and 503, when to ask again. */
    details: {retryAfterSeconds?: number; outcome?: string; operatorNote?: Record<string, string>} = {},
  ) {
    super(message);
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.outcome = details.outcome ?? OUTCOMES[status];
    this.operatorNote = details.operatorNote;
  }
}
