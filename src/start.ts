import {requireWithCodeCache} from './code-cache.js';
import {answerWithoutOclif} from './fast-path.js';

export interface StartOptions {
  version: () => string;
  /** dist/bundle/cli.cjs: src/cli.ts with oclif inside, loaded only when oclif is needed. */
  cliBundle: string;
}

/** What `hub` does first (bin/run.cjs): answer without oclif when it can, else run the CLI bundle. */
export async function start(args: string[], options: StartOptions): Promise<void> {
  if (await answerWithoutOclif(args, options.version)) return;
  const cli = requireWithCodeCache(options.cliBundle) as typeof import('./cli.js');
  await cli.run(args);
}
