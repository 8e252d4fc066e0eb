import {Command} from '@oclif/core/command';
import type {Input, ParserOutput} from '@oclif/core/interfaces';
import {createContext, type Context} from './context.js';
import {printError} from './error-output.js';
import {HubError} from '@hub/common/errors';
import {parseFailure} from './usage-error.js';

/** oclif's FlagOutput and ArgOutput, which @oclif/core/interfaces does not export. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- oclif's own types are these; each command narrows them
type ParsedValues = {[name: string]: any};

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

  /** Every command's outgoing HTTP follows the proxy variables; a bad one is reported like any error. */
  override async init(): Promise<void> {
    await super.init();
    await this.hub.connect();
  }

  /** Whatever the parser refuses is a usage error (exit 2) in one line, not oclif's help page. */
  protected override async parse<F extends ParsedValues, B extends ParsedValues, A extends ParsedValues>(
    options?: Input<F, B, A>,
    argv?: string[],
  ): Promise<ParserOutput<F, B, A>> {
    try {
      return await super.parse(options, argv);
    } catch (error) {
      // Parsed, and refused: else oclif warns, outside production, that the command never parsed.
      this.parsed = true;
      throw parseFailure(error, `${this.config.bin} ${this.id}`);
    }
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (!(error instanceof HubError)) return super.catch(error);
    printError(error, this.jsonEnabled());
    // With --json the JSON above is all the output: oclif exits with process.exitCode.
    process.exitCode = error.exit;
    if (!this.jsonEnabled()) this.exit(error.exit);
  }
}
