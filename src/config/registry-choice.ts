import {ExitCode, HubError} from '@hub/common/errors';
import {normalizeRegistryHost} from './registry-host.js';
import type {Settings} from './settings.js';

/**
 * Which registry a command is about: the one named, else HUB_REGISTRY, else the only one hub
 * knows. With several and none named, the person has to choose.
 */
export function chooseRegistry(named: string | undefined, settings: Settings, env: NodeJS.ProcessEnv): string {
  const given = named ?? env.HUB_REGISTRY;
  if (given) return normalizeRegistryHost(given);
  const known = Object.keys(settings.registries);
  if (known.length === 1) return known[0]!;
  throw new HubError(
    known.length === 0
      ? 'No registry given, and hub is not logged in to any.'
      : `No registry given, and hub knows several: ${known.join(', ')}.`,
    {
      exit: ExitCode.usage,
      code: 'registry_required',
      suggestions: ['Name the registry, e.g. `hub login registry.example.com`, or set HUB_REGISTRY.'],
    },
  );
}
