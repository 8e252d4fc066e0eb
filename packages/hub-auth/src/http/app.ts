import formBody from '@fastify/formbody';
import Fastify, {LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest} from 'fastify';
import {registerAdminRoutes, type AdminAccess} from './routes/admin.js';
import {registerBackchannelLogoutRoute} from './routes/backchannel-logout.js';
import {registerHealthRoutes} from './routes/health.js';
import {pullableRepositories, registerRepositoryListingRoute} from './routes/repositories.js';
import {registerRegistryNotificationsRoute} from './routes/registry-notifications.js';
import {registerRevocationRoute} from './routes/revoke.js';
import {registerTokenRoutes} from './routes/token.js';
import {registerWellKnownRoutes} from './routes/well-known.js';
import type {TokenServiceDeps} from '../service-deps.js';
import {registerWebHub} from '@hub/web';
import {webHubDeps, type WebHubSetUp} from './web.js';
import {passedOn, quoted} from '@hub/common/quote';

/**
 * The HTTP app, built apart from `listen` so that tests can inject requests into it; with the web
 * hub under /web when `web` is given (web.enabled), and the registry's notifications taken with
 * `notificationsToken` (registryNotifications.token).
 */
export function createApp(deps: TokenServiceDeps, web?: WebHubSetUp, notificationsToken?: string): FastifyInstance {
  const app = Fastify({
    // Fairness between clients goes by their address: behind a proxy, the one it reports.
    trustProxy: deps.config.listen.trustProxy.length > 0 ? deps.config.listen.trustProxy : false,
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
  // Each open connection costs memory and a file descriptor; past the limit node closes new ones.
  app.server.maxConnections = deps.config.listen.maxConnections;
  // The OAuth2 form is the only body the token endpoint takes: no JSON, no text.
  app.removeAllContentTypeParsers();
  app.register(formBody);
  app.setErrorHandler((error: FastifyError, request, reply) => refuse(error, request, reply, deps));
  registerTokenRoutes(app, deps);
  const pullable = pullableRepositories(deps);
  registerRepositoryListingRoute(app, deps, pullable);
  registerRevocationRoute(app, deps);
  registerWellKnownRoutes(app, deps);
  registerBackchannelLogoutRoute(app, deps);
  if (notificationsToken !== undefined) registerRegistryNotificationsRoute(app, deps, notificationsToken);
  if (web) registerWebHub(app, webHubDeps(deps, web, pullable));
  return app;
}

/**
 * What fastify refuses before a route runs (a body of another type, too big, unreadable) and what
 * a route did not expect: answered, logged and counted like the route's own refusals.
 */
function refuse(error: FastifyError, request: FastifyRequest, reply: FastifyReply, deps: TokenServiceDeps): FastifyReply {
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
  const message =
    error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
      ? `${request.method} ${request.url.split('?')[0]} takes an application/x-www-form-urlencoded form only (the OAuth2 token request), not ${quoted(request.headers['content-type'] ?? 'none')}`
      : status >= 500
        ? 'hub-auth failed to answer; the failure is in its log'
        : passedOn(error.message);
  const outcome = status >= 500 ? 'error' : 'bad_request';
  deps.metrics.requests.inc('unknown', outcome);
  if (status >= 500) request.log.error({event: 'token', grant: 'unknown', outcome, err: error}, 'request failed');
  else request.log.info({event: 'token', grant: 'unknown', outcome, status, reason: message}, 'request refused');
  reply.code(status).header('cache-control', 'no-store');
  return request.method === 'POST'
    ? reply.send({error: 'invalid_request', error_description: message})
    : reply.send({errors: [{code: status >= 500 ? 'UNKNOWN' : 'DENIED', message}]});
}

/**
 * Metrics and health checks, on a listener of their own (loopback by default): what they tell
 * is for the operator's monitoring, not for anyone who can reach the token endpoint. The admin
 * API too, behind its own credential.
 */
export function createMonitoringApp(deps: TokenServiceDeps, admin: AdminAccess = {problem: 'not set up'}): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger,
    logController: new LogController({disableRequestLogging: true}),
    requestTimeout: deps.config.listen.requestTimeoutSeconds * 1000,
    connectionTimeout: deps.config.listen.requestTimeoutSeconds * 1000,
    // The admin API's requests are a few names and ids.
    bodyLimit: 16 * 1024,
  });
  app.server.maxConnections = MONITORING_MAX_CONNECTIONS;
  registerHealthRoutes(app, deps);
  registerAdminRoutes(app, deps, admin);
  return app;
}

/** Scrapers and probes use a handful of connections. */
const MONITORING_MAX_CONNECTIONS = 64;
