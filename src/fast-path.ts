/**
 * The answers `hub` gives without loading oclif, which costs 60–100 ms before any command runs:
 * `hub --version` and `hub status [REGISTRY] [--json]`, which scripts and shell prompts call often. They
 * print what the oclif commands print. Anything else, and any failure, goes to oclif (false), so
 * help, flag errors and error messages stay oclif's. bin/run.cjs asks here first (src/start.ts);
 * the status code runs only for `status`.
 */
export async function answerWithoutOclif(args: readonly string[], version: () => string): Promise<boolean> {
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    process.stdout.write(`hub/${version()} ${process.platform}-${process.arch} node-${process.version}\n`);
    return true;
  }
  if (args[0] === 'status') {
    // `hub status [REGISTRY] [--json]`, in either order; anything else (help, a typo'd flag) is oclif's.
    const rest = args.slice(1);
    const json = rest.includes('--json');
    const words = rest.filter((arg) => arg !== '--json');
    if (rest.length - words.length <= 1 && words.length <= 1 && !words.some((word) => word.startsWith('-'))) {
      return answerStatus(json, words[0]);
    }
  }
  return false;
}

async function answerStatus(json: boolean, named: string | undefined): Promise<boolean> {
  const [{createContext}, {describeStatus, status, statusExitCode}] = await Promise.all([
    import('./context.js'),
    import('./flows/status.js'),
  ]);
  const lines: string[] = [];
  const ctx = createContext((line) => lines.push(line));
  let registries: Awaited<ReturnType<typeof status>>;
  try {
    registries = await status(ctx, named);
  } catch {
    return false;
  }
  if (json) process.stdout.write(`${JSON.stringify(registries, null, 2)}\n`);
  else {
    // Through the context's say, which makes the saved issuers (from discovery) printable.
    for (const line of describeStatus(registries, named)) ctx.say(line);
    process.stderr.write(lines.map((line) => `${line}\n`).join(''));
  }
  process.exitCode = statusExitCode(registries);
  return true;
}
