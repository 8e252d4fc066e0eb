import {HubError, ExitCode} from '@hub/common/errors';

/**
 * The key docker uses for a registry in config.json: the host with its port, no scheme, no
 * path, lower case. IPv6 literals keep their brackets.
 */
export function normalizeRegistryHost(input: string): string {
  const trimmed = input.trim();
  if (!trimmed) throw invalidRegistry(input, 'it is empty');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw invalidRegistry(input, 'it is not a host name');
  }
  if (url.username || url.password) throw invalidRegistry(input, 'it contains credentials');
  if (!url.hostname) throw invalidRegistry(input, 'it has no host');
  // URL drops default ports; docker keeps what the user wrote, so take the port back from the text.
  const explicitPort = /^[a-z][a-z0-9+.-]*:\/\/(?:\[[^\]]+\]|[^/:?#]+):(\d+)/i.exec(withScheme)?.[1];
  const port = url.port || explicitPort;
  const host = url.hostname.toLowerCase();
  // docker's reference grammar: letters, digits, dots and hyphens, or an IPv6 literal.
  if (!/^(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)$/.test(host)) {
    throw invalidRegistry(input, 'docker does not accept that host name');
  }
  return port ? `${host}:${Number(port)}` : host;
}

function invalidRegistry(input: string, why: string): HubError {
  return new HubError(`"${input}" is not a registry address: ${why}.`, {
    exit: ExitCode.usage,
    code: 'invalid_registry',
    suggestions: ['Give the registry as docker does, e.g. registry.example.com or localhost:5000.'],
  });
}
