import formBody from '@fastify/formbody';
import Fastify, {LogController, type FastifyBaseLogger, type FastifyInstance} from 'fastify';
import type {AccountBindings} from './bindings.js';
import type {TokenServiceConfig} from './config.js';
import type {SignedToken} from './issue-token.js';
import type {TokenServiceMetrics} from './metrics.js';
import type {AclRule} from './policy.js';
import type {VerificationKey} from './refresh-token.js';
import {registerHealthRoutes} from './routes/health.js';
import {registerRepositoryListingRoute} from './routes/repositories.js';
import {registerTokenRoutes} from './routes/token.js';
import {registerWellKnownRoutes} from './routes/well-known.js';
import type {RegistryTokenSigner, verificationJwks} from './signing.js';
import type {TokenReuse} from './token-reuse.js';
import type {AccessTokenVerifier} from './verify-access-token.js';

export interface TokenServiceDeps {
  config: TokenServiceConfig;
  signer: RegistryTokenSigner;
  jwks: ReturnType<typeof verificationJwks>;
  verificationKeys: VerificationKey[];
  verifier: AccessTokenVerifier;
  rules: readonly AclRule[];
  bindings: AccountBindings;
  tokenReuse: TokenReuse<SignedToken>;
  metrics: TokenServiceMetrics;
  logger: FastifyBaseLogger;
  nowSeconds: () => number;
  /** Resolves once tokens can be checked (the provider's metadata is loaded). */
  ready: () => Promise<void>;
}

/** The HTTP app, built apart from `listen` so that tests can inject requests into it. */
export function createApp(deps: TokenServiceDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: 16 * 1024,
    // Token requests are small; anything bigger is a client misbehaving.
    routerOptions: {maxParamLength: 200},
    requestTimeout: deps.config.listen.requestTimeoutSeconds * 1000,
    connectionTimeout: deps.config.listen.requestTimeoutSeconds * 1000,
    return503OnClosing: true,
    // One line per token decision is logged by the route; two more per request would only cost.
    logController: new LogController({disableRequestLogging: true}),
    // Nor a child logger per request for a request id: that line is the request's only one, and
    // making the child is a noticeable part of a request whose token is reused.
    childLoggerFactory: (logger) => logger,
  });
  app.register(formBody);
  registerTokenRoutes(app, deps);
  registerRepositoryListingRoute(app, deps);
  registerWellKnownRoutes(app, deps);
  registerHealthRoutes(app, deps);
  return app;
}
