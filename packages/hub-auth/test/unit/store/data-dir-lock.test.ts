import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterEach, describe, expect, it} from 'vitest';
import {lockDataDir} from '../../../src/store/data-dir-lock.js';
import {temporaryDir} from '../../stores.js';

const LOCK_MODULE = fileURLToPath(new URL('../../../src/store/data-dir-lock.ts', import.meta.url));

/** Longer than every timeout hub-auth or a lock library has (proper-lockfile's stale: 4 s; the store's statements: 5 s). */
const PAUSE_MS = 7000;

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Another process that takes the lock on `dir` and holds it until it dies. */
async function holderProcess(dir: string): Promise<ChildProcess> {
  const source = `import {lockDataDir} from ${JSON.stringify(LOCK_MODULE)}; await lockDataDir(${JSON.stringify(dir)}); console.log('held'); setInterval(() => {}, 60000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {stdio: ['ignore', 'pipe', 'inherit']});
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('held') && resolve());
    child.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
  });
  return child;
}

const died = (child: ChildProcess) =>
  new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)));

describe('the embedded store’s data directory lock', () => {
  it('is held by one holder: the next is refused with the directory and the holder named, and takes it once released', async () => {
    const dir = temporaryDir('lock');
    const first = await lockDataDir(dir);
    const refusal = lockDataDir(dir);
    await expect(refusal).rejects.toThrow(`${dir} is in use by another hub-auth, process ${process.pid}`);
    await expect(refusal).rejects.toThrow(
      'stop that one first, give this one a store.dataDir of its own, or run several instances on a PostgreSQL server',
    );
    await first.release();
    const second = await lockDataDir(dir);
    await second.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it(
    'stays with a holder stopped (SIGSTOP) for longer than any timeout, and after it resumes; goes when it is killed (SIGKILL)',
    async () => {
      const dir = temporaryDir('lock');
      const holder = await holderProcess(dir);
      holder.kill('SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      await expect(lockDataDir(dir)).rejects.toThrow(`process ${holder.pid} on`);
      holder.kill('SIGCONT');
      await expect(lockDataDir(dir)).rejects.toThrow(`process ${holder.pid} on`);
      holder.kill('SIGKILL');
      await died(holder);
      // Its socket file is left behind, and refuses connections: removed, and the lock taken.
      expect(existsSync(join(dir, 'hub-auth.lock'))).toBe(true);
      const lock = await lockDataDir(dir);
      await expect(lockDataDir(dir)).rejects.toThrow(`process ${process.pid} on`);
      await lock.release();
    },
    PAUSE_MS + 20_000,
  );

  it('goes to exactly one of several starts racing over a dead holder’s socket, round after round', async () => {
    for (let round = 0; round < 5; round++) {
      const dir = temporaryDir('lock');
      const holder = await holderProcess(dir);
      holder.kill('SIGKILL');
      await died(holder);
      const attempts = await Promise.allSettled(Array.from({length: 8}, () => lockDataDir(dir)));
      const winners = attempts.filter((attempt) => attempt.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      for (const attempt of attempts) if (attempt.status === 'rejected') expect(String(attempt.reason)).toContain('is in use by');
      await winners[0]!.value.release();
    }
  });

  it('refuses a directory whose lock path would not fit in a Unix socket address, saying so', async () => {
    const dir = join(temporaryDir('lock'), 'x'.repeat(120));
    await expect(lockDataDir(dir)).rejects.toThrow('give store.dataDir a shorter path');
  });
});
