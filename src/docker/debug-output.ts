import debug from 'debug';
import {ExitCode, HubError} from '@hub/common/errors';

/**
 * Debug output that would print what hub hands the Docker engine: the X-Registry-Auth header of a
 * push or pull is base64 JSON holding the access token (or docker's identity token), and a CI
 * log keeps whatever lands on stderr.
 */

/** docker-modem's `modem` namespace prints each engine request with its headers: it stays off whatever DEBUG says. */
export function silenceModemDebug(): void {
  if (!debug.enabled('modem')) return;
  const namespaces = debug.disable();
  debug.enable(`${namespaces},-modem`);
}

/**
 * node's own `http` and `https` debug output prints the options of each new connection, headers
 * included. node reads NODE_DEBUG once, when it starts, so hub cannot switch those sections off:
 * a push or pull stops before it asks for a token instead.
 */
export function refuseNodeHttpDebug(nodeDebug: string | undefined): void {
  const sections = ['http', 'https'].filter((section) => nodeDebugEnables(nodeDebug, section));
  if (sections.length === 0) return;
  throw new HubError(
    `NODE_DEBUG=${nodeDebug} turns on node's ${sections.join(' and ')} debug output, which would print the credentials hub hands the Docker engine.`,
    {
      exit: ExitCode.usage,
      code: 'unsafe_debug_output',
      suggestions: ['Run hub push and hub pull without NODE_DEBUG, or with sections other than http (NODE_DEBUG=net,tls).'],
    },
  );
}

/** Whether NODE_DEBUG takes in a section, by node's rule: comma-separated names, `*` for any text, any case. */
export function nodeDebugEnables(nodeDebug: string | undefined, section: string): boolean {
  if (!nodeDebug) return false;
  const pattern = nodeDebug
    .replace(/[|\\{}()[\]^$+?.]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll(',', '$|^');
  return new RegExp(`^(${pattern})$`, 'i').test(section);
}
