import {Agent, EnvHttpProxyAgent, type Dispatcher} from 'undici';
import {HubError} from '../errors.js';
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
    httpProxy: proxyUrl(env, 'http_proxy'),
    httpsProxy: proxyUrl(env, 'https_proxy'),
    noProxy: env.no_proxy ?? env.NO_PROXY ?? '',
  });
  return byEnvironment.compose(
    (dispatch) => (options, handler) =>
      isLoopbackHost(new URL(String(options.origin)).hostname) ? direct.dispatch(options, handler) : dispatch(options, handler),
  );
}

function proxyUrl(env: NodeJS.ProcessEnv, lowerCase: 'http_proxy' | 'https_proxy'): string {
  const name = env[lowerCase] === undefined ? lowerCase.toUpperCase() : lowerCase;
  const value = env[name];
  if (!value) return '';
  // As curl reads it: a proxy named without a scheme is an http proxy.
  const url = /^[a-z][a-z\d+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  if (URL.canParse(url) && ['http:', 'https:'].includes(new URL(url).protocol)) return url;
  // Not quoted: a proxy URL may hold a password.
  throw new HubError(`${name} is not a proxy URL; set it to http://HOST:PORT (or https://, or unset it).`, {
    exit: 2,
    code: 'invalid_proxy',
  });
}
