import {execFile} from 'node:child_process';
import {readdir, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runHub} from '@hub/test-stack/hub-cli';
import {createSandbox, type Sandbox} from '@hub/test-stack/sandbox';

const run = promisify(execFile);
const CLI_BUNDLE = fileURLToPath(new URL('../../dist/bundle/cli.cjs', import.meta.url));

// Help, completion and usage errors of the built `hub` (bin/run.cjs), in a sandboxed home with no
// session: none of these needs a service.
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox('hub-cli-usage');
});
afterAll(async () => {
  await sandbox?.remove();
});

const hub = (...args: string[]) => runHub(args, sandbox.env);

/** What `--json` must print for a usage error: one object with these three fields, and nothing else. */
function jsonError(stdout: string): {code: string; message: string; suggestion: string} {
  const parsed = JSON.parse(stdout) as {error: {code: string; message: string; suggestion: string}};
  expect(Object.keys(parsed)).toEqual(['error']);
  expect(Object.keys(parsed.error).sort()).toEqual(['code', 'message', 'suggestion']);
  return parsed.error;
}

describe('help', () => {
  it('hub help COMMAND, hub COMMAND -h and hub COMMAND --help show the same help', async () => {
    const [help, short, long] = await Promise.all([hub('help', 'login'), hub('login', '-h'), hub('login', '--help')]);
    for (const result of [help, short, long]) {
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('$ hub login [REGISTRY]');
    }
    expect(short.stdout).toBe(long.stdout);
    expect(help.stdout).toBe(long.stdout);
  });

  it('hub, hub -h, hub --help and hub help list the commands, help and autocomplete included', async () => {
    const results = await Promise.all([hub(), hub('-h'), hub('--help'), hub('help')]);
    for (const result of results) {
      expect(result.code).toBe(0);
      for (const command of ['login', 'push', 'pull', 'logout', 'help', 'autocomplete'])
        expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });

  it('hub -v and hub --version print the version', async () => {
    const [short, long] = await Promise.all([hub('-v'), hub('--version')]);
    expect(short).toEqual(long);
    expect(long.stdout).toMatch(/^hub\/\d+\.\d+\.\d+ /);
  });

  it('hub logout --help shows a usage line with REGISTRY or --all, not an empty alternative', async () => {
    const {code, stdout} = await hub('logout', '--help');
    expect(code).toBe(0);
    expect(stdout).toContain('$ hub logout [REGISTRY [--account NAME] | --all] [--force] [--json]');
    expect(stdout).not.toContain('| ]');
  });

  it("hub's own commands do not load the help and completion plugins; hub help does", async () => {
    const loadedPlugins = async (args: string[]) => {
      const probe = `require(${JSON.stringify(CLI_BUNDLE)}).run(${JSON.stringify(args)}).then(() => {
        const plugins = Object.keys(require.cache).map((file) => /node_modules\\/(@oclif\\/plugin-[^/]+)/.exec(file)?.[1]).filter(Boolean);
        process.stderr.write('\\nPLUGINS ' + JSON.stringify([...new Set(plugins)].sort()));
      })`;
      const {stderr} = await run(process.execPath, ['-e', probe], {env: sandbox.env});
      return JSON.parse(/PLUGINS (.*)$/.exec(stderr)![1]!) as string[];
    };
    expect(await loadedPlugins(['status', '--help'])).toEqual([]);
    expect(await loadedPlugins(['help', 'status'])).toEqual(['@oclif/plugin-help']);
  });
});

describe('a typo', () => {
  it('names the command meant, exits 2, and says where the commands are listed', async () => {
    const {code, stdout, stderr} = await hub('pussh', 'myapp:1.0');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe("Error: 'pussh' is not a hub command.\n  → Did you mean 'hub push'?\n  → See 'hub --help'.\n");
  });

  it('with --json: one error object on stdout', async () => {
    const {code, stdout, stderr} = await hub('logn', '--json');
    expect(code).toBe(2);
    expect(stderr).toBe('');
    expect(jsonError(stdout)).toEqual({
      code: 'unknown_command',
      message: "'logn' is not a hub command.",
      suggestion: "Did you mean 'hub login'? See 'hub --help'.",
    });
  });

  it('suggests nothing when no command is near', async () => {
    const {code, stderr} = await hub('frobnicate');
    expect(code).toBe(2);
    expect(stderr).toBe("Error: 'frobnicate' is not a hub command.\n  → See 'hub --help'.\n");
  });

  it('words after a command beyond its arguments are its unexpected arguments', async () => {
    // `hub status` takes an optional REGISTRY since issue #25 (item 11): the second word is the extra one.
    const {code, stderr} = await hub('status', 'registry.example.com', 'extra');
    expect(code).toBe(2);
    expect(stderr).toBe("Error: Unexpected argument: extra\n  → See 'hub status --help'.\n");
  });
});

describe('usage errors', () => {
  // Each kind of mistake the parser catches, on the commands that have it.
  const cases = [
    {args: ['push'], code: 'missing_argument', message: 'Missing argument IMAGE (image reference).', help: 'hub push --help'},
    {args: ['pull', '--bogus', 'x'], code: 'unknown_flag', message: 'Nonexistent flag: --bogus', help: 'hub pull --help'},
    {args: ['token', 'a', 'b'], code: 'unexpected_argument', message: 'Unexpected argument: b', help: 'hub token --help'},
    {
      args: ['login', '--port', 'abc'],
      code: 'invalid_flag_value',
      message: 'Parsing --port: Expected an integer but received: abc',
      help: 'hub login --help',
    },
    {
      args: ['login', '--with-token', '--device'],
      code: 'invalid_flags',
      message: '--device=true cannot also be provided when using --with-token',
      help: 'hub login --help',
    },
    {
      args: ['logout', '--all', 'registry.example.com'],
      code: 'invalid_flags',
      message: 'Give a REGISTRY or --all, not both (got registry.example.com and --all).',
      help: 'hub logout --help',
    },
  ];

  it.each(cases)('hub $args: exit 2, one line and where the help is', async ({args, message, help}) => {
    const {code, stdout, stderr} = await hub(...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`Error: ${message}\n  → See '${help}'.\n`);
  });

  it.each(cases)('hub $args --json: exit 2, one JSON error object and nothing else', async ({args, code: errorCode, message, help}) => {
    const {code, stdout, stderr} = await hub(...args, '--json');
    expect(code).toBe(2);
    expect(stderr).toBe('');
    expect(jsonError(stdout)).toEqual({code: errorCode, message, suggestion: `See '${help}'.`});
  });

  it('prints nothing else outside production either (NODE_ENV=development)', async () => {
    const {code, stdout, stderr} = await runHub(['push', '--json'], {...sandbox.env, NODE_ENV: 'development'});
    expect(code).toBe(2);
    expect(stderr).toBe('');
    expect(jsonError(stdout)).toMatchObject({code: 'missing_argument'});
  });

  it('hub push --json without an image prints nothing of oclif itself', async () => {
    const {stdout} = await hub('push', '--json');
    expect(stdout.length).toBeLessThan(300);
    expect(stdout).not.toMatch(/oclif|scripts|package\.json/);
  });

  it('a failure that is not a usage error keeps its exit code and comes as the same JSON shape', async () => {
    // Not logged in anywhere is exit 1, as with a registry named (issue #25, item 10; was 2, registry_required).
    const {code, stdout} = await hub('token', '--json');
    expect(code).toBe(1);
    expect(jsonError(stdout)).toMatchObject({code: 'not_logged_in'});
  });

  it('hub status HOST:PORT keeps the argument whole: that registry, not "Unexpected arguments: HOST PORT"', async () => {
    for (const args of [
      ['status', '127.0.0.1:42323'],
      ['status', '--json', '127.0.0.1:42323'],
    ]) {
      const {code, stdout, stderr} = await hub(...args);
      expect(code).toBe(1);
      expect(stderr).not.toContain('Unexpected');
      if (args.includes('--json')) expect(JSON.parse(stdout)).toEqual([]);
      else expect(stderr).toContain('Not logged in to 127.0.0.1:42323.');
    }
    const {code, stderr} = await hub('status', 'a', 'b:c');
    expect(code).toBe(2);
    expect(stderr).toContain('Unexpected argument: b:c');
  });
});

describe('completion', () => {
  it.each(['bash', 'zsh', 'powershell'])('hub autocomplete %s prints the setup and writes the completion script', async (shell) => {
    const {code, stdout} = await hub('autocomplete', shell);
    expect(code).toBe(0);
    expect(stdout).toContain(`hub autocomplete script ${shell}`);
    const functions = join(sandbox.home, '.cache/hub/autocomplete/functions', shell);
    const [script] = await readdir(functions);
    const text = await readFile(join(functions, script!), 'utf8');
    for (const command of ['login', 'push', 'logout']) expect(text).toContain(command);
  });

  it('hub autocomplete script bash prints the lines for .bashrc', async () => {
    const {code, stdout} = await hub('autocomplete', 'script', 'bash');
    expect(code).toBe(0);
    expect(stdout).toContain('HUB_AC_BASH_SETUP_PATH');
  });

  it('hub autocomplete fish is a usage error in hub’s format, not oclif’s', async () => {
    const {code, stderr} = await hub('autocomplete', 'fish');
    expect(code).toBe(2);
    expect(stderr).toBe("Error: Expected fish to be one of: zsh, bash, powershell\n  → See 'hub autocomplete --help'.\n");
  });

  it('an unsupported shell is a usage error', async () => {
    const {code, stderr} = await hub('autocomplete', 'tcsh');
    expect(code).toBe(2);
    expect(stderr).toContain('tcsh');
  });
});
