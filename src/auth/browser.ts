import {spawn, type ChildProcess} from 'node:child_process';
import open from 'open';
import {parse} from 'shell-quote';
import {HubError} from '@hub/common/errors';
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
      return await startedBrowser(await open(url));
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

/** Starts the browser command; the browser outlives hub. */
function runDetached([program, ...args]: string[], url: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  return startedBrowser(spawn(program!, [...args, url], {detached: true, stdio: 'ignore', env}));
}

/**
 * How long a browser command has to fail before hub takes it as opened: xdg-open and the like
 * hand the URL over and exit at once, a browser started by itself keeps running.
 */
const FAILURE_GRACE_MS = 1000;

/**
 * Whether the command got as far as a browser: not when it cannot start or exits with an error
 * right away (HUB_BROWSER=/bin/false, xdg-open without any browser), so that hub does not claim
 * to have opened one.
 */
function startedBrowser(child: ChildProcess): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (opened: boolean) => {
      clearTimeout(timer);
      child.unref();
      resolve(opened);
    };
    const timer = setTimeout(() => settle(true), FAILURE_GRACE_MS);
    child.once('error', () => settle(false));
    child.once('exit', (code) => settle(code === 0));
  });
}
