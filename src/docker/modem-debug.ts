import debug from 'debug';

/**
 * docker-modem's `modem` debug namespace prints each request to the engine with its headers, and
 * the X-Registry-Auth header of a push or pull is base64 JSON holding the access token: with
 * `DEBUG=*` the token would land on stderr and in CI logs. So that namespace stays off whatever
 * DEBUG says; every other namespace is left as DEBUG asks.
 */
export function silenceModemDebug(): void {
  if (!debug.enabled('modem')) return;
  const namespaces = debug.disable();
  debug.enable(`${namespaces},-modem`);
}
