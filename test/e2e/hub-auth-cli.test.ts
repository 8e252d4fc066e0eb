import {lstat, readFile, rm, symlink, writeFile} from 'node:fs/promises';
import {createServer, type Server} from 'node:net';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {hubAuthCommand, keygen, writeHubAuthConfig} from '@hub/test-stack/hub-auth';
import {INTROSPECTION_CLIENT} from '@hub/test-stack/identity-provider';
import {createSandbox, type Sandbox} from '@hub/test-stack/sandbox';

// The built `hub-auth` command line, as an operator runs it: help, version, keygen's refusals and
// the one-line errors for what goes wrong around it.
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox('hub-auth-cli');
});
afterAll(async () => {
  await sandbox?.remove();
});

const hubAuth = (...args: string[]) => hubAuthCommand(args, {...sandbox.env, HUB_AUTH_INTROSPECTION_SECRET: INTROSPECTION_CLIENT.secret});

const REQUIRED = ['--realm', 'https://auth.example.com/token', '--service', 'registry.example.com'];

/** One line on stderr that says what happened, and no stack trace. */
function expectOneLine(stderr: string, text: string): void {
  expect(stderr).toContain(text);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('hub-auth help and version', () => {
  it.each([{args: ['--help']}, {args: ['-h']}, {args: ['help']}, {args: []}])(
    'hub-auth $args lists the commands on stdout',
    async ({args}) => {
      const {code, stdout} = await hubAuth(...args);
      expect(code).toBe(0);
      expect(stdout).toContain('hub-auth serve --config FILE');
      expect(stdout).toContain('hub-auth keygen --out DIR --realm URL --service NAME');
    },
  );

  it.each([
    ['serve', '--help'],
    ['serve', '-h'],
    ['keygen', '--help'],
    ['keygen', '-h'],
    ['help', 'keygen'],
    ['keygen', '--out', 'x', '--help'],
  ])('hub-auth %s %s shows that command’s help', async (...args) => {
    const {code, stdout} = await hubAuth(...args);
    expect(code).toBe(0);
    const command = args[0] === 'help' ? args[1] : args[0];
    expect(stdout).toMatch(new RegExp(`^Usage: hub-auth ${command} `));
  });

  it('hub-auth --version and -v print the version', async () => {
    const version = (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}).version;
    for (const flag of ['--version', '-v']) {
      const {code, stdout} = await hubAuth(flag);
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`^hub-auth/${version.replaceAll('.', '\\.')} `));
    }
  });

  it('an unknown option is a usage error naming the command’s help', async () => {
    const {code, stderr} = await hubAuth('serve', '--bogus');
    expect(code).toBe(2);
    expect(stderr).toContain("See 'hub-auth serve --help'.");
  });
});

describe('hub-auth keygen', () => {
  it.each([
    {missing: '--realm', args: ['--service', 'registry.example.com']},
    {missing: '--service', args: ['--realm', 'https://auth.example.com/token']},
  ])('requires $missing rather than writing a placeholder, and writes nothing', async ({missing, args}) => {
    const out = join(sandbox.dir, `keys-without${missing}`);
    const {code, stdout, stderr} = await hubAuth('keygen', '--out', out, ...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`keygen needs ${missing}`);
    await expect(readFile(join(out, 'signing.key'))).rejects.toMatchObject({code: 'ENOENT'});
  });

  it('writes what it was given: no placeholder realm or service in the snippet', async () => {
    const out = join(sandbox.dir, 'keys-snippet');
    const {code, stdout} = await hubAuth('keygen', '--out', out, ...REQUIRED);
    expect(code).toBe(0);
    expect(stdout).toContain('realm: https://auth.example.com/token');
    expect(stdout).toContain('service: registry.example.com');
    expect(stdout).not.toContain('hub-auth.example.com');
    expect(await readFile(join(out, 'registry-auth.yml'), 'utf8')).toBe(stdout);
  });

  it('refuses to replace an existing signing key without --force, and replaces it with --force', async () => {
    const out = join(sandbox.dir, 'keys-twice');
    await keygen(out);
    const key = await readFile(join(out, 'signing.key'), 'utf8');
    const certificate = await readFile(join(out, 'signing.crt'), 'utf8');

    const again = await hubAuth('keygen', '--out', out, ...REQUIRED);
    expect(again.code).toBe(1);
    expectOneLine(again.stderr, `${join(out, 'signing.key')}`);
    expect(again.stderr).toContain('--force');
    expect(await readFile(join(out, 'signing.key'), 'utf8')).toBe(key);
    expect(await readFile(join(out, 'signing.crt'), 'utf8')).toBe(certificate);

    const forced = await hubAuth('keygen', '--out', out, ...REQUIRED, '--force');
    expect(forced.code).toBe(0);
    expect(await readFile(join(out, 'signing.key'), 'utf8')).not.toBe(key);
  });

  it('with --force replaces a symbolic link in place of the key, never writes the private key through it', async () => {
    const out = join(sandbox.dir, 'keys-linked');
    await keygen(out);
    const elsewhere = join(sandbox.dir, 'world-readable.txt');
    await writeFile(elsewhere, 'not a key\n', {mode: 0o644});
    await rm(join(out, 'signing.key'));
    await symlink(elsewhere, join(out, 'signing.key'));
    const forced = await hubAuth('keygen', '--out', out, ...REQUIRED, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(elsewhere, 'utf8')).toBe('not a key\n');
    const key = await lstat(join(out, 'signing.key'));
    expect(key.isFile()).toBe(true);
    expect(key.mode & 0o777).toBe(0o600);
  });

  it('refuses when only the key is there (the certificate and snippet were moved elsewhere)', async () => {
    const out = join(sandbox.dir, 'keys-key-only');
    await keygen(out);
    await rm(join(out, 'signing.crt'));
    await rm(join(out, 'registry-auth.yml'));
    const {code, stderr} = await hubAuth('keygen', '--out', out, ...REQUIRED);
    expect(code).toBe(1);
    expect(stderr).toContain('already exist');
  });

  it('a keys folder it cannot create is one line with exit 1, no stack trace', async () => {
    // Tests run as root, for whom a chmod'd folder is writable: a path under a regular file is not.
    const file = join(sandbox.dir, 'a-file');
    await writeFile(file, '');
    const {code, stdout, stderr} = await hubAuth('keygen', '--out', join(file, 'keys'), ...REQUIRED);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expectOneLine(stderr, `hub-auth: cannot write ${join(file, 'keys')}: part of the path is a file, not a folder.`);
  });
});

describe('hub-auth serve', () => {
  let holder: Server;
  afterAll(async () => {
    await new Promise((resolve) => holder?.close(resolve));
  });

  it('on a port another server holds: one line naming the address and the file, exit 1, no stack trace', async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as {port: number}).port;
    const signing = await keygen(join(sandbox.dir, 'serve-keys'));
    const config = await writeHubAuthConfig(
      {dir: join(sandbox.dir, 'serve'), oidcIssuer: 'https://idp.example.com', registryHost: 'registry.example.com', signing},
      port,
      0,
    );
    const {code, stderr} = await hubAuth('serve', '--config', config);
    expect(code).toBe(1);
    expectOneLine(
      stderr,
      `hub-auth: cannot listen on 127.0.0.1:${port}: the port is in use by another process. Change listen in ${config}`,
    );
  });
});
