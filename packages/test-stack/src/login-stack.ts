import {startBrowser, type TestBrowser} from './browser.js';
import {startIdentityProvider, type IdentityProvider, type IdentityProviderOptions} from './identity-provider.js';
import {startKeyring, type Keyring} from './keyring.js';
import {assertPrograms} from './prerequisites.js';
import {createSandbox, type Sandbox} from './sandbox.js';

/** What a login needs, for real: a home of its own, its keyring, the provider and a browser. */
export interface LoginStack {
  sandbox: Sandbox;
  keyring: Keyring;
  idp: IdentityProvider;
  browser: TestBrowser;
  /** The environment hub runs in: the sandbox, its keyring's bus and the browser hook. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** `idp`: how the stack's provider describes itself and what it accepts (see IdentityProviderOptions). */
export async function startLoginStack(idpOptions: IdentityProviderOptions = {}): Promise<LoginStack> {
  assertPrograms();
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step();
  };
  try {
    const sandbox = await createSandbox();
    stops.push(() => sandbox.remove());
    const keyring = await startKeyring(sandbox);
    stops.push(() => keyring.stop());
    const idp = await startIdentityProvider(idpOptions);
    stops.push(() => idp.stop());
    const browser = await startBrowser();
    stops.push(() => browser.stop());
    return {sandbox, keyring, idp, browser, env: {...keyring.env, ...browser.env}, stop};
  } catch (error) {
    await stop();
    throw error;
  }
}
