import type Dockerode from 'dockerode';
import {HubError} from '@hub/common/errors';
import {dockerConfigDir} from './config-file.js';
import {dockerodeOptions, findEngine, type EngineAddress} from './engine-address.js';
import {silenceModemDebug} from './debug-output.js';

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
    await ping({abortSignal: AbortSignal.timeout(10_000)});
  } catch (error) {
    throw new HubError(
      `Cannot reach the Docker engine at ${describeEngine(address)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
      {
        code: 'engine_unreachable',
        cause: error,
        suggestions: ['Start Docker, or point DOCKER_HOST (or `docker context use`) at a running engine.'],
      },
    );
  }
  return {docker, address};
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
