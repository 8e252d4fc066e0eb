import {Command, Errors} from '@oclif/core';
import {createContext, type Context} from './context.js';
import {HubError} from './errors.js';

/**
 * What every hub command shares: `--json`, the context it works through, and errors shown as a
 * message, a non-zero exit code and what to do next.
 */
export abstract class HubCommand extends Command {
  static override enableJsonFlag = true;

  private context?: Context;

  protected get hub(): Context {
    this.context ??= createContext((line) => {
      if (!this.jsonEnabled()) this.logToStderr(line);
    });
    return this.context;
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof HubError) {
      const shown = new Errors.CLIError(error.message, {exit: error.exit, code: error.code, suggestions: error.suggestions});
      // With --json oclif prints the error instead of throwing it, and exits with process.exitCode.
      process.exitCode = error.exit;
      return super.catch(shown);
    }
    return super.catch(error);
  }
}
