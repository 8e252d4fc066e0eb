import {execFile, spawn, type ChildProcess} from 'node:child_process';
import {rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {promisify} from 'node:util';
import type {Sandbox} from './sandbox.js';

const run = promisify(execFile);

const PASSWORD = 'test-keyring-password';
/** Past this many, a daemon that keeps dying is left dead, and the tests say what it printed. */
const MAX_RESTARTS = 5;

/**
 * A Secret Service of the sandbox's own: a D-Bus session bus whose socket is in the sandbox's
 * XDG_RUNTIME_DIR (dbus-run-session would put it in the shared /tmp), with gnome-keyring-daemon
 * unlocked by a password on stdin. It must own org.freedesktop.secrets before anything asks for
 * it, or D-Bus would start a locked keyring on demand.
 */
export interface Keyring {
  /** DBUS_SESSION_BUS_ADDRESS, for the processes that should see this keyring. */
  env: NodeJS.ProcessEnv;
  /** Freezes (SIGSTOP) or thaws the keyring daemon: a Secret Service that never answers. */
  freeze(frozen: boolean): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A daemon of the pair that exits unasked is started again, with the keyring it had (its file is in
 * the sandbox's XDG_DATA_HOME), and says so on the test's stderr with its last output: one daemon
 * dying under a loaded machine must show as that, not as a keychain hub cannot use.
 */
export async function startKeyring(sandbox: Sandbox): Promise<Keyring> {
  const socket = join(sandbox.env.XDG_RUNTIME_DIR!, 'bus');
  const env = {...sandbox.env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${socket}`};
  const config = join(sandbox.env.XDG_RUNTIME_DIR!, 'bus.conf');
  writeFileSync(config, busConfig(env.DBUS_SESSION_BUS_ADDRESS));
  let stopping = false;
  const bus = supervise('dbus-daemon', () => {
    rmSync(socket, {force: true});
    return spawn('dbus-daemon', [`--config-file=${config}`, '--nofork', '--nopidfile'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  });
  const secrets = supervise('gnome-keyring-daemon', () => {
    const child = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin!.end(`${PASSWORD}\n`);
    return child;
  });

  function supervise(name: string, start: () => ChildProcess): {current(): ChildProcess; output(): string} {
    let output = '';
    let child: ChildProcess;
    let restarts = 0;
    const launch = () => {
      child = start();
      const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-5000));
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      child.once('exit', (code, signal) => {
        if (stopping || restarts >= MAX_RESTARTS) return;
        restarts += 1;
        process.stderr.write(
          `test-stack: ${name} exited unasked (code ${code}, signal ${signal}); starting it again. Its output:\n${output}\n`,
        );
        // The keyring daemon leaves when the bus does: give the bus a moment to come back first.
        setTimeout(launch, 200);
      });
    };
    launch();
    return {current: () => child, output: () => output};
  }

  const stop = async () => {
    stopping = true;
    for (const daemon of [secrets, bus]) daemon.current().kill('SIGTERM');
  };
  const deadline = Date.now() + 15_000;
  while (!(await ownsSecrets(env))) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`gnome-keyring-daemon did not take org.freedesktop.secrets:\n${bus.output()}\n${secrets.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    env,
    async freeze(frozen) {
      secrets.current().kill(frozen ? 'SIGSTOP' : 'SIGCONT');
    },
    stop,
  };
}

/**
 * Debian's session bus configuration without its service folders: a bus that can start no
 * service on demand. With them, a request in the moment between a crashed keyring daemon and its
 * restart had D-Bus start gnome-keyring's own, locked, which then held the name (CI: every later
 * check of doctor.test.ts said "it is locked and could not be unlocked").
 */
function busConfig(address: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>${address}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
}

async function ownsSecrets(env: NodeJS.ProcessEnv): Promise<boolean> {
  try {
    const {stdout} = await run(
      'dbus-send',
      [
        '--session',
        '--print-reply',
        '--dest=org.freedesktop.DBus',
        '/org/freedesktop/DBus',
        'org.freedesktop.DBus.NameHasOwner',
        'string:org.freedesktop.secrets',
      ],
      {env},
    );
    return stdout.includes('boolean true');
  } catch {
    return false;
  }
}

/** Reads hub's entries for a registry straight from the Secret Service, with libsecret's secret-tool. */
export async function secretServiceLookup(env: NodeJS.ProcessEnv, account: string): Promise<string | undefined> {
  try {
    const {stdout} = await run('secret-tool', ['lookup', 'service', 'hub', 'username', account], {env, timeout: 10_000});
    return stdout;
  } catch {
    return undefined;
  }
}

/** How many items the Secret Service holds for hub. */
export async function secretServiceCount(env: NodeJS.ProcessEnv): Promise<number> {
  const {stdout, stderr} = await run('secret-tool', ['search', '--all', 'service', 'hub'], {env, timeout: 10_000});
  return `${stdout}${stderr}`.split('\n').filter((line) => /^attribute\.service = hub$/.test(line.trim())).length;
}

/**
 * The session hub stored for `registry`: `account`'s, by default the registry's only one (hub keeps
 * one per account, "<account>@<registry>"); its Secret Service item, or reassembled from its parts.
 */
export async function secretServiceSession(
  env: NodeJS.ProcessEnv,
  registry: string,
  account?: string,
): Promise<Record<string, unknown> | undefined> {
  const name = account === undefined ? await onlyAccountEntry(env, registry) : `${account}@${registry}`;
  const entry = name === undefined ? undefined : await secretServiceLookup(env, name);
  if (!entry) return undefined;
  const stored = JSON.parse(entry) as Record<string, unknown>;
  if (!('generation' in stored)) return stored;
  const {generation, parts} = stored as {generation: string; parts: number};
  let text = '';
  for (let i = 0; i < parts; i++) text += (await secretServiceLookup(env, `${name}#${generation}.${i}`)) ?? '';
  return JSON.parse(text) as Record<string, unknown>;
}

/** The name of the one account entry hub holds for `registry`; undefined when there is none, or several. */
async function onlyAccountEntry(env: NodeJS.ProcessEnv, registry: string): Promise<string | undefined> {
  const {stdout, stderr} = await run('secret-tool', ['search', '--all', 'service', 'hub'], {env, timeout: 10_000});
  const names = `${stdout}${stderr}`
    .split('\n')
    .map((line) => /^attribute\.username = (.*)$/.exec(line.trim())?.[1])
    .filter((name): name is string => name !== undefined && !name.includes('#') && name.endsWith(`@${registry}`));
  return names.length === 1 ? names[0] : undefined;
}
