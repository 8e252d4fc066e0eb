import {Command} from '@oclif/core/command';
import {CLIError} from '@oclif/core/errors';
import {createContext, type Context} from './context.js';
import {HubError} from './errors.js';
import {printable} from './io/terminal-text.js';

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
    if (!(error instanceof HubError)) return super.catch(error);
    // With --json oclif prints the error as JSON and exits with process.exitCode.
    process.exitCode = error.exit;
    if (this.jsonEnabled()) {
      return super.catch(new CLIError(error.message, {exit: error.exit, code: error.code, suggestions: error.suggestions}));
    }
    // Printed unwrapped, so that paths and commands in it can be copied whole; without the control
    // characters of the remote text it quotes (--json escapes them).
    this.logToStderr(printable(`Error: ${error.message}`));
    for (const suggestion of error.suggestions) this.logToStderr(printable(`  → ${suggestion}`));
    this.exit(error.exit);
  }
}
