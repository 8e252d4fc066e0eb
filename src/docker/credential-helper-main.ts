import {environmentSession, TOKEN_FOR_OTHER_REGISTRY} from '../auth/environment-token.js';
import {identityTokenFor} from '../auth/identity-token.js';
import {freshSession} from '../auth/session-refresh.js';
import {normalizeRegistryHost} from '../config/registry-host.js';
import {readSettings} from '../config/settings.js';
import {createContext, sessionDeps, type Context} from '../context.js';
import {HubError} from '@hub/common/errors';
import {readStdin} from '../io/stdin.js';
import {printable} from '../io/terminal-text.js';
import {answerCredentialRequest, type CredentialSource} from './credential-helper.js';

/**
 * `docker-credential-hub`: the only place that touches argv, stdin, stdout and the exit code.
 * docker runs it for every operation on a hub registry, so it loads no more than the answer needs.
 */
export async function serve(version: () => string): Promise<number> {
  const answer = await answerCredentialRequest(process.argv[2], await readStdin(), hubCredentials(version)).catch((error: unknown) => {
    // The message may quote a provider's or a registry's words.
    const message = printable(error instanceof HubError ? error.message : `docker-credential-hub failed: ${(error as Error).message}`);
    // docker pull and push drop a failed `get` (stdout) and go on without credentials, so the person
    // would see only the registry's "access denied": docker passes the helper's stderr through.
    const hints = error instanceof HubError ? error.suggestions.map((line) => `  ${printable(line)}\n`).join('') : '';
    process.stderr.write(`docker-credential-hub: ${message}\n${hints}`);
    return {stdout: `${message}\n`, exitCode: 1 as const};
  });
  process.stdout.write(answer.stdout);
  return answer.exitCode;
}

function hubCredentials(
  version: () => string,
  ctx: Context = createContext((line) => process.stderr.write(`${line}\n`)),
): CredentialSource {
  const {env, paths} = ctx;
  return {
    version,
    async get(serverUrl) {
      let registry: string;
      try {
        registry = normalizeRegistryHost(serverUrl);
      } catch {
        return undefined;
      }
      if (env.HUB_TOKEN) {
        // In CI the token is for the registry HUB_REGISTRY names; docker gets nothing for any other.
        try {
          const session = environmentSession(env, registry);
          return session && {username: session.account, secret: session.accessToken};
        } catch (error) {
          if (error instanceof HubError && error.code === TOKEN_FOR_OTHER_REGISTRY) return undefined;
          throw error;
        }
      }
      const saved = (await readSettings(paths.settings)).registries[registry];
      if (!saved) return undefined;
      try {
        const deps = sessionDeps(ctx, saved.storage);
        const session = await freshSession(registry, saved, {
          ...deps,
          // Called only when the token must be renewed: the proxy agent is loaded then, not on each `get`.
          discover: async (settings, clientSecret) => {
            await (await import('@hub/common/net/proxy-environment')).honourProxyEnvironment(env);
            return ctx.discover(settings, clientSecret);
          },
        });
        const identityToken = await identityTokenFor(session, {
          ...deps,
          // Asked for only when the kept one is past half its life: loaded then, as above.
          request: async (host, accessToken) => {
            await (await import('@hub/common/net/proxy-environment')).honourProxyEnvironment(env);
            return (await import('../registry/identity-token.js')).requestIdentityToken(host, accessToken);
          },
        });
        return {username: session.account, secret: session.accessToken, identityToken};
      } catch (error) {
        if (error instanceof HubError && error.code === 'not_logged_in') return undefined;
        throw error;
      }
    },
    async list() {
      const {registries} = await readSettings(paths.settings);
      return Object.fromEntries(Object.entries(registries).map(([registry, saved]) => [registry, saved.account ?? '']));
    },
  };
}
