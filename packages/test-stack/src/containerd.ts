import {execFile} from 'node:child_process';
import {mkdir} from 'node:fs/promises';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {startDaemon} from './process.js';
import {waitFor} from './ports.js';

const run = promisify(execFile);

export const CONTAINERD_PROGRAMS = ['containerd', 'ctr'];

/**
 * Debian's containerd with a root, state folder and socket of the test's own, for `ctr`. It
 * unpacks pulled images with the native snapshotter: no overlay mounts inside a test machine.
 */
export interface Containerd {
  /** `ctr` with its arguments, for the test to run as a person would (it talks to this daemon). */
  ctr(...args: string[]): string[];
  stop(): Promise<void>;
}

export async function startContainerd(dir: string): Promise<Containerd> {
  await mkdir(dir, {recursive: true});
  const socket = join(dir, 'containerd.sock');
  const daemon = startDaemon('containerd', ['--root', join(dir, 'root'), '--state', join(dir, 'state'), '--address', socket], {
    logFile: join(dir, 'containerd.log'),
  });
  const ctr = (...args: string[]) => ['ctr', '--address', socket, ...args];
  const [program, ...versionArgs] = ctr('version');
  try {
    await waitFor(
      'containerd',
      () =>
        run(program!, versionArgs).then(
          () => true,
          () => false,
        ),
      30_000,
    );
  } catch (error) {
    await daemon.stop();
    throw new Error(`${(error as Error).message}\n${daemon.output()}`);
  }
  return {ctr, stop: () => daemon.stop()};
}
