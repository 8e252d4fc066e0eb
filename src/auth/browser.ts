import {spawn} from 'node:child_process';
import open from 'open';
import {parse} from 'shell-quote';
import {HubError} from '../errors.js';
import {hasDisplay} from './display.js';

/** Opens a URL for the person at the keyboard; false when there is no browser to open it in. */
export type OpenBrowser = (url: string) => Promise<boolean>;

/**
 * `HUB_BROWSER` (like gh's `GH_BROWSER`) names a command that gets the URL as its last argument;
 * otherwise the system's default browser, unless this session plainly has no display.
 */
export function browserOpener(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): OpenBrowser {
  const command = env.HUB_BROWSER?.trim();
  if (command) {
    const argv = parseCommand(command);
    return (url) => runDetached(argv, url, env);
  }
  if (!hasDisplay(env, platform)) return async () => false;
  return async (url) => {
    try {
      const child = await open(url);
      child.once('error', () => {});
      return true;
    } catch {
      return false;
    }
  };
}

function parseCommand(command: string): string[] {
  const words = parse(command);
  if (words.length === 0 || words.some((word) => typeof word !== 'string')) {
    throw new HubError(`HUB_BROWSER="${command}" is not a plain command; hub runs it with the URL as its last argument.`, {
      exit: 2,
      code: 'invalid_browser',
      suggestions: ['Set HUB_BROWSER to a program and its arguments, without pipes or redirections, e.g. HUB_BROWSER="firefox --new-tab".'],
    });
  }
  return words as string[];
}

/** Starts the browser command and returns once it is running; the browser outlives hub. */
function runDetached([program, ...args]: string[], url: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(program!, [...args, url], {detached: true, stdio: 'ignore', env});
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}
