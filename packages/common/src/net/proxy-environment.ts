/**
 * Whether the environment names a proxy, read without loading undici: docker-credential-hub checks
 * this before its first network call and pays for the proxy agent only when one is named.
 */
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'] as const;

export function namesProxy(env: NodeJS.ProcessEnv): boolean {
  return PROXY_VARIABLES.some((name) => Boolean(env[name]));
}

/**
 * Routes every later outgoing HTTP call of this process (undici's fetch, and the global fetch that
 * openid-client and jose use) through the proxies the environment names; nothing when it names none.
 */
export async function honourProxyEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!namesProxy(env)) return;
  const {setGlobalDispatcher} = await import('undici');
  setGlobalDispatcher((await import('./http-dispatcher.js')).outgoingDispatcher(env));
}
