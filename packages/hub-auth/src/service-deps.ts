import type {FastifyBaseLogger} from 'fastify';
import type {ResourceScope} from '@hub/protocol/resource-scope';
import type {AccountBindings} from './accounts/bindings.js';
import type {RegistryActivityStore} from './activity/registry-activity.js';
import type {TokenServiceConfig} from './config.js';
import type {TokenServiceMetrics} from './metrics.js';
import type {AccessTokenVerifier} from './oidc/verify-access-token.js';
import type {AclRule, Requester} from './policy/acl.js';
import type {ProviderLogouts} from './sessions/provider-logout.js';
import type {Revocations} from './sessions/revocations.js';
import type {Sessions} from './sessions/sessions.js';
import type {CallerResolver} from './tokens/caller.js';
import type {SignedToken} from './tokens/issue-token.js';
import type {VerificationKey} from './tokens/refresh-token.js';
import type {RegistryTokenSigner, verificationJwks} from './tokens/signing.js';
import type {TokenReuse} from './tokens/token-reuse.js';
import type {WorkloadTokens} from './workloads/workload-tokens.js';

/**
 * What the routes of one token service work with, built once by http/service.ts. Its own module,
 * not the app's, so that the routes the app registers do not import the app back.
 */
export interface TokenServiceDeps {
  config: TokenServiceConfig;
  signer: RegistryTokenSigner;
  jwks: ReturnType<typeof verificationJwks>;
  verificationKeys: VerificationKey[];
  verifier: AccessTokenVerifier;
  /** The workload issuers' tokens (CI jobs, pods): robots checked apart from people's tokens. */
  workloads: WorkloadTokens;
  rules: readonly AclRule[];
  bindings: AccountBindings;
  /** Sign-in sessions: what each identity token stands for, and whether it still works. */
  sessions: Sessions;
  /** Ends a person's or an account's sign-in and web sessions together (an operator's revoke, a release). */
  revocations: Revocations;
  /** What the provider's back-channel logouts end, each once across instances. */
  providerLogouts: ProviderLogouts;
  /** What the registry's notifications said of its manifests: the web hub's activity. */
  activity: RegistryActivityStore;
  tokenReuse: TokenReuse<SignedToken>;
  metrics: TokenServiceMetrics;
  logger: FastifyBaseLogger;
  nowSeconds: () => number;
  /** Resolves once tokens can be checked (the provider's metadata is loaded). */
  ready: () => Promise<void>;
  /** The policy's answer: what of the scopes the requester gets (policy/acl.ts, remembering recent answers). */
  decide: (requester: Requester, scopes: readonly ResourceScope[]) => readonly ResourceScope[];
  /** The scopes of a request's `scope` values (scope.ts, remembering recent texts). */
  parseScopes: (values: readonly string[]) => readonly ResourceScope[];
  /** Who presents an access token: the requester the policy sees and the holder behind it. */
  callerOf: CallerResolver;
}
