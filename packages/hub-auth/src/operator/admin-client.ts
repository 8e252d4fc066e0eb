import {adminCredentialOf} from '../admin-credential.js';
import {ConfigError, loadConfig} from '../config.js';
import {passedOn} from '@hub/common/quote';

/**
 * How the operator's commands reach the running instance: its configuration file names the
 * monitoring address and the admin credential (or where the instance wrote one), and the admin
 * API (http/routes/admin.ts) does the work, since the embedded store opens in the instance only.
 */

/** The operation itself failed (not how it was asked for): exit 1, with what to do. */
export class OperatorFailure extends Error {}

export interface AdminClient {
  /** The admin API's JSON answer; throws OperatorFailure (or ConfigError for a refused request) with what to do. */
  call<T>(method: 'GET' | 'POST', path: string, body?: object): Promise<T>;
}

const TIMEOUT_MS = 15_000;
/** The admin API's own 404s; any other is a listener without it. */
const OWN_NOT_FOUND = new Set(['unknown_session', 'unknown_account']);

export async function adminClient(configFile: string, env: NodeJS.ProcessEnv = process.env): Promise<AdminClient> {
  const config = await loadConfig(configFile);
  const credential = await adminCredentialOf(config, env);
  const base = `http://${reachable(config.monitoring.host)}:${config.monitoring.port}`;
  return {
    async call<T>(method: 'GET' | 'POST', path: string, body?: object): Promise<T> {
      let response: Response;
      try {
        response = await fetch(`${base}/admin${path}`, {
          method,
          headers: {authorization: `Bearer ${credential}`, ...(body ? {'content-type': 'application/json'} : {})},
          body: body && JSON.stringify(body),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (error) {
        const cause = (error as {cause?: {code?: string}}).cause?.code ?? (error as Error).name;
        throw new OperatorFailure(
          cause === 'ECONNREFUSED'
            ? `hub-auth is not running at ${base} (monitoring in ${configFile}): start it (hub-auth serve --config ${configFile}), or give the --config of the running instance`
            : `cannot reach hub-auth at ${base} (monitoring in ${configFile}): ${cause}. Is it running, and is this its configuration?`,
        );
      }
      const answer = (await response.json().catch(() => ({}))) as {error?: string; message?: string};
      if (response.ok) return answer as T;
      const said = passedOn(answer.message ?? `HTTP ${response.status}`);
      if (response.status === 401)
        throw new OperatorFailure(
          `hub-auth at ${base} refused the admin credential: the one ${configFile} names (admin.credential, or the file the instance wrote) is not the running instance's. Was it restarted with another configuration?`,
        );
      if (response.status === 404 && !OWN_NOT_FOUND.has(answer.error ?? ''))
        throw new OperatorFailure(`${base} has no admin API: is it a hub-auth of this version, and ${configFile} its configuration?`);
      if (response.status === 400) throw new ConfigError(said);
      throw new OperatorFailure(said);
    },
  };
}

/** Where a client on this machine reaches a listener bound to `host`: a wildcard is reached on loopback. */
function reachable(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
