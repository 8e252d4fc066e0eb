import {execFile, spawn, type ChildProcess} from 'node:child_process';
import {promisify} from 'node:util';
import type {Sandbox} from './sandbox.js';

const run = promisify(execFile);

/**
 * A Secret Service of the sandbox's own: a D-Bus session (dbus-run-session) with
 * gnome-keyring-daemon unlocked by a password on stdin. It must own org.freedesktop.secrets
 * before anything asks for it, or D-Bus would start a locked keyring on demand.
 */
export interface Keyring {
  /** DBUS_SESSION_BUS_ADDRESS, for the processes that should see this keyring. */
  env: NodeJS.ProcessEnv;
  /** Freezes (SIGSTOP) or thaws the keyring daemon: a Secret Service that never answers. */
  freeze(frozen: boolean): Promise<void>;
  stop(): Promise<void>;
}

export async function startKeyring(sandbox: Sandbox): Promise<Keyring> {
  const child = spawn(
    'dbus-run-session',
    ['--', 'sh', '-c', 'printf "%s\\n" "$DBUS_SESSION_BUS_ADDRESS"; exec gnome-keyring-daemon --foreground --unlock --components=secrets'],
    {env: sandbox.env, detached: true, stdio: ['pipe', 'pipe', 'pipe']},
  );
  let log = '';
  child.stderr!.on('data', (chunk) => (log += chunk));
  child.stdin!.end('test-keyring-password');
  const address = await firstLine(child);
  const env = {...sandbox.env, DBUS_SESSION_BUS_ADDRESS: address};
  const deadline = Date.now() + 15_000;
  while (!(await ownsSecrets(env))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      stopGroup(child);
      throw new Error(`gnome-keyring-daemon did not take org.freedesktop.secrets:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    env,
    async freeze(frozen) {
      await run('pkill', [frozen ? '-STOP' : '-CONT', '-P', String(child.pid), 'gnome-keyring-d']);
    },
    async stop() {
      stopGroup(child);
    },
  };
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

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk) => {
      buffer += chunk;
      const end = buffer.indexOf('\n');
      if (end >= 0) resolve(buffer.slice(0, end).trim());
    });
    child.once('exit', (code) => reject(new Error(`dbus-run-session exited with ${code} before printing the bus address`)));
    child.once('error', reject);
  });
}

function stopGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    // already gone
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

/** The session hub stored for `registry`: its Secret Service item, or reassembled from its parts. */
export async function secretServiceSession(env: NodeJS.ProcessEnv, registry: string): Promise<Record<string, unknown> | undefined> {
  const entry = await secretServiceLookup(env, registry);
  if (!entry) return undefined;
  const stored = JSON.parse(entry) as Record<string, unknown>;
  if (!('generation' in stored)) return stored;
  const {generation, parts} = stored as {generation: string; parts: number};
  let text = '';
  for (let i = 0; i < parts; i++) text += (await secretServiceLookup(env, `${registry}#${generation}.${i}`)) ?? '';
  return JSON.parse(text) as Record<string, unknown>;
}
