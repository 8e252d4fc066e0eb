import type Dockerode from 'dockerode';
import {HubError} from '@hub/common/errors';
import {dockerConfigDir} from './config-file.js';
import {dockerodeOptions, findEngine, type EngineAddress} from './engine-address.js';
import {silenceModemDebug} from './debug-output.js';

const PING_TIMEOUT_MS = 10_000;

export interface Engine {
  docker: Dockerode;
  address: EngineAddress;
}

/** The Docker engine docker itself would use, answering; a clear error naming it otherwise. */
export async function connectEngine(env: NodeJS.ProcessEnv): Promise<Engine> {
  const address = await findEngine(env, dockerConfigDir(env));
  silenceModemDebug();
  const {default: Docker} = await import('dockerode');
  // No request timeout: a push of a large layer may outlast any; only the ping is bounded.
  const docker = new Docker(dockerodeOptions(address));
  try {
    // dockerode takes an abort signal here, though its type declarations do not say so.
    const ping = docker.ping.bind(docker) as unknown as (options: {abortSignal: AbortSignal}) => Promise<unknown>;
    await ping({abortSignal: AbortSignal.timeout(PING_TIMEOUT_MS)});
  } catch (error) {
    throw new HubError(`Cannot reach the Docker engine at ${describeEngine(address)}: ${engineFailure(error)}.`, {
      code: 'engine_unreachable',
      cause: error,
      suggestions: ['Start Docker, or point DOCKER_HOST (or `docker context use`) at a running engine.'],
    });
  }
  return {docker, address};
}

/**
 * Why the ping failed, in words: the errno code (ENOENT, ECONNREFUSED) names a socket's trouble,
 * but a hung engine's abort comes as ABORT_ERR, which says nothing of the wait.
 */
export function engineFailure(error: unknown): string {
  const {code, name, message} = error as NodeJS.ErrnoException;
  if (code === 'ABORT_ERR' || name === 'AbortError' || name === 'TimeoutError') {
    return `it did not answer within ${PING_TIMEOUT_MS / 1000} s`;
  }
  return code ?? message;
}

export function describeEngine(address: EngineAddress): string {
  const from =
    address.source === 'DOCKER_HOST'
      ? 'from DOCKER_HOST'
      : address.source === 'context'
        ? `docker context "${address.context}"`
        : 'the default';
  return `${address.host} (${from})`;
}
