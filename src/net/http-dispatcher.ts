import {Agent, EnvHttpProxyAgent, type Dispatcher} from 'undici';
import {isLoopbackHost} from './loopback.js';

/**
 * The dispatcher for outgoing HTTP of hub, docker-credential-hub and hub-auth: HTTPS_PROXY,
 * HTTP_PROXY and NO_PROXY (or their lower-case forms, which win, as curl reads them) as undici's
 * EnvHttpProxyAgent reads them, except that loopback (127.0.0.0/8, ::1, localhost) is always
 * reached directly, whatever NO_PROXY says: the login's loopback redirect and local registries
 * live there, and a company proxy cannot reach this machine's loopback anyway.
 */
export function outgoingDispatcher(env: NodeJS.ProcessEnv): Dispatcher {
  const direct = new Agent();
  // The variables are passed, not left for undici to read from process.env, so that `env` decides.
  const byEnvironment = new EnvHttpProxyAgent({
    httpProxy: env.http_proxy ?? env.HTTP_PROXY ?? '',
    httpsProxy: env.https_proxy ?? env.HTTPS_PROXY ?? '',
    noProxy: env.no_proxy ?? env.NO_PROXY ?? '',
  });
  return byEnvironment.compose((dispatch) => (options, handler) =>
    isLoopbackHost(new URL(String(options.origin)).hostname) ? direct.dispatch(options, handler) : dispatch(options, handler),
  );
}
