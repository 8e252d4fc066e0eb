import {execFile} from 'node:child_process';
import {dockerConfigDir, dockerConfigFile, readCredentialHelpers, type HelperFile} from '../docker/config-file.js';
import {containersAuthFile, containersToolsPresent} from '../docker/containers-auth-file.js';
import {jwtClaims} from '../auth/jwt-claims.js';
import {CREDENTIALS_NOT_FOUND, IDENTITY_TOKEN_USERNAME} from '../docker/credential-helper.js';
import {findProgram} from '@hub/common/find-program';
import {CheckFailed, skipped, type Passed} from './checkup.js';

const HELPER = 'docker-credential-hub';
/** Long enough for the helper to refresh the session at the provider, as docker would let it. */
const HELPER_TIMEOUT_MS = 30_000;

/**
 * What plain docker does for the registry: config.json sends it to `docker-credential-hub`, the
 * helper is on PATH, and `get` answers with credentials. The first two need no session, so they
 * are checked even when the session is broken.
 */
export async function checkCredentialHelper(env: NodeJS.ProcessEnv, registry: string, sessionUsable: boolean): Promise<Passed<never>> {
  const file = dockerConfigFile(dockerConfigDir(env));
  await expectHubEntry(file, registry);
  return checkHelperAnswers(env, registry, sessionUsable, `credHelpers in ${file.path}`);
}

/**
 * What podman and buildah do for the registry, read as containers/image reads it: their own auth
 * file first, and docker's config.json when that file names nothing for the registry.
 */
export async function checkContainersHelper(env: NodeJS.ProcessEnv, registry: string, sessionUsable: boolean): Promise<Passed<never>> {
  const own = containersAuthFile(env);
  if (!containersToolsPresent(own, env)) return {detail: `neither podman nor buildah is on PATH, and ${own.path} does not exist`};
  const docker = dockerConfigFile(dockerConfigDir(env));
  const file = (await readCredentialHelpers(own))[registry] === undefined && (await readCredentialHelpers(docker))[registry] ? docker : own;
  await expectHubEntry(file, registry, `or \`hub login ${registry} --containers-auth ${own.path}\``);
  return checkHelperAnswers(env, registry, sessionUsable, `podman and buildah find it through credHelpers in ${file.path}`);
}

async function expectHubEntry(file: HelperFile, registry: string, otherLogin = 'or add that entry yourself'): Promise<void> {
  const helper = (await readCredentialHelpers(file))[registry];
  if (helper === 'hub') return;
  throw new CheckFailed(
    helper
      ? `${file.path} sends ${registry} to docker-credential-${helper}, not to hub`
      : `${file.path} has no credHelpers entry for ${registry}`,
    `Run \`hub login ${registry}\`, which adds "credHelpers": {"${registry}": "hub"}, ${otherLogin}.`,
  );
}

async function checkHelperAnswers(env: NodeJS.ProcessEnv, registry: string, sessionUsable: boolean, where: string): Promise<Passed<never>> {
  const program = findProgram(HELPER, env);
  if (!program) {
    throw new CheckFailed(
      `${HELPER} is not on PATH`,
      'Install hub with `npm install -g` (or run `npm link` in a checkout of hub), so that docker finds it.',
    );
  }
  if (!sessionUsable) throw skipped('session');
  const username = await askHelper(program, registry, env);
  return {detail: `${program} answers for ${registry} as ${username} (${where})`};
}

/** `docker-credential-hub get`, as docker runs it; the secret it answers with stays here. */
async function askHelper(program: string, registry: string, env: NodeJS.ProcessEnv): Promise<string> {
  const {exitCode, stdout} = await runHelper(program, registry, env);
  if (exitCode !== 0) {
    // The protocol puts the helper's error message on stdout.
    const message = stdout.trim().split('\n')[0]?.slice(0, 300) || `exit code ${exitCode}`;
    throw new CheckFailed(
      `\`${HELPER} get\` failed: ${message}`,
      message === CREDENTIALS_NOT_FOUND
        ? `docker-credential-hub reads hub's settings from the same place as hub: check that docker runs it with the same HOME (or HUB_CONFIG_DIR), or run \`hub login ${registry}\`.`
        : `Run \`echo ${registry} | ${HELPER} get\` to see the whole error.`,
    );
  }
  let answer: {Username?: unknown; Secret?: unknown};
  try {
    answer = JSON.parse(stdout) as typeof answer;
  } catch {
    throw new CheckFailed(`\`${HELPER} get\` did not answer JSON`, `Check that ${program} is hub's helper (\`${HELPER} version\`).`);
  }
  if (typeof answer.Secret !== 'string' || !answer.Secret) {
    throw new CheckFailed(`\`${HELPER} get\` answered without a Secret`, `Check that ${program} is hub's helper (\`${HELPER} version\`).`);
  }
  if (answer.Username !== IDENTITY_TOKEN_USERNAME) return String(answer.Username);
  // An identity token names no user in the answer: hub-auth's refresh token does (sub), read only to say whose it is.
  const account = jwtClaims(answer.Secret)?.sub;
  return `${typeof account === 'string' ? account : 'an unnamed account'}, with docker's identity token`;
}

function runHelper(program: string, registry: string, env: NodeJS.ProcessEnv): Promise<{exitCode: number; stdout: string}> {
  // npm installs the helper on Windows as a .cmd shim, which only a shell can start.
  const windows = process.platform === 'win32';
  return new Promise((resolve, reject) => {
    const child = execFile(
      windows ? `"${program}"` : program,
      ['get'],
      {env, shell: windows, timeout: HELPER_TIMEOUT_MS, maxBuffer: 64 * 1024},
      (error, stdout) => {
        if (!error) return resolve({exitCode: 0, stdout});
        if (error.killed)
          return reject(
            new CheckFailed(
              `\`${HELPER} get\` did not answer within ${HELPER_TIMEOUT_MS / 1000}s`,
              `Run \`echo ${registry} | ${HELPER} get\` to see where it hangs.`,
            ),
          );
        if (typeof error.code === 'number') return resolve({exitCode: error.code, stdout});
        reject(
          new CheckFailed(
            `${program} could not be started (${error.code ?? error.message})`,
            `Reinstall hub (\`npm install -g\`), so that ${HELPER} can run.`,
          ),
        );
      },
    );
    // A helper that dies before reading stdin is reported by its exit status, not by this pipe.
    child.stdin?.on('error', () => {});
    child.stdin?.end(registry);
  });
}
