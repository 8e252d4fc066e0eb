import {readSettings} from '../config/settings.js';
import {createContext, type Context} from '../context.js';
import {HubError} from '@hub/common/errors';
import {credentialsNow} from '../session/credentials.js';
import {TOKEN_FOR_OTHER_REGISTRY} from '../session/environment-token.js';
import {readStdin} from '../io/stdin.js';
import {explainFailure} from '../io/program-error.js';
import {answerCredentialRequest, type CredentialSource, type HelperAnswer} from './credential-helper.js';

/**
 * `docker-credential-hub`: the only place that touches argv, stdin, stdout and the exit code.
 * docker runs it for every operation on a hub registry, so it loads no more than the answer needs.
 */
export async function serve(version: () => string): Promise<number> {
  const answer: HelperAnswer = await answerCredentialRequest(process.argv[2], await readStdin(), hubCredentials(version)).catch(
    (error: unknown) => {
      const {message, advice} = explainFailure('docker-credential-hub', error);
      // docker pull and push drop a failed `get` (stdout) and go on without credentials, so the person
      // would see only the registry's "access denied": docker passes the helper's stderr through.
      process.stderr.write(`docker-credential-hub: ${message}\n${advice}`);
      return {stdout: `${message}\n`, exitCode: 1 as const};
    },
  );
  process.stdout.write(answer.stdout);
  if (answer.stderr) process.stderr.write(`docker-credential-hub: ${answer.stderr}\n`);
  return answer.exitCode;
}

function hubCredentials(
  version: () => string,
  ctx: Context = createContext((line) => process.stderr.write(`${line}\n`)),
): CredentialSource {
  return {
    version,
    async get(registry) {
      try {
        const {session, identityToken} = await credentialsNow(ctx, registry);
        return {username: session.account, secret: session.accessToken, identityToken};
      } catch (error) {
        // No session here, or HUB_TOKEN is for another registry (in CI docker gets nothing for any other).
        if (error instanceof HubError && (error.code === 'not_logged_in' || error.code === TOKEN_FOR_OTHER_REGISTRY)) return undefined;
        throw error;
      }
    },
    async list() {
      const {registries} = await readSettings(ctx.paths.settings);
      return Object.fromEntries(Object.entries(registries).map(([registry, saved]) => [registry, saved.account ?? '']));
    },
  };
}
