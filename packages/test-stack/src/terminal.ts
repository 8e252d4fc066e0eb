import {execFile, spawn} from 'node:child_process';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {promisify} from 'node:util';

const run = promisify(execFile);

/** util-linux's script (a pseudo-terminal), stty (its size) and tmux (a terminal that draws it). */
export const TERMINAL_PROGRAMS = ['script', 'stty', 'tmux'];

export interface TerminalSize {
  columns: number;
  rows: number;
}

export interface TerminalRun {
  code: number | null;
  /** Every byte the program wrote to the terminal, cursor movement included. */
  bytes: string;
}

/**
 * Runs `command` with a pseudo-terminal as stdin, stdout and stderr, as a person at a terminal
 * would. Without `size` the terminal is as script leaves it when nobody sizes it: 0 rows, 0 columns.
 */
export function runInTerminal(command: string[], env: NodeJS.ProcessEnv, size?: TerminalSize): Promise<TerminalRun> {
  return onTerminal(command, env, size);
}

/**
 * Runs `command` on a pseudo-terminal, as `runInTerminal` does, and types `answer` and Enter once
 * the program has written `prompt` there, and a moment more: a person answering a question at a terminal.
 */
export function answerOnTerminal(command: string[], env: NodeJS.ProcessEnv, prompt: string, answer: string): Promise<TerminalRun> {
  return onTerminal(command, env, undefined, {prompt, answer});
}

function onTerminal(
  command: string[],
  env: NodeJS.ProcessEnv,
  size: TerminalSize | undefined,
  reply?: {prompt: string; answer: string},
): Promise<TerminalRun> {
  const quoted = command.map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`).join(' ');
  const line = size ? `stty cols ${size.columns} rows ${size.rows} && exec ${quoted}` : `exec ${quoted}`;
  const child = spawn('script', ['--quiet', '--flush', '--return', '--command', line, '/dev/null'], {
    env: {...env, SHELL: '/bin/sh'},
    stdio: [reply ? 'pipe' : 'ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let bytes = '';
    let answered = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      bytes += chunk.toString();
      if (reply && !answered && bytes.includes(reply.prompt)) {
        answered = true;
        // A moment, as a person takes to read the prompt: a program turns the echo off only after it.
        setTimeout(() => child.stdin?.write(`${reply.answer}\n`), 300);
      }
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({code, bytes}));
  });
}

/**
 * What a terminal of `size` shows after `bytes`, scrollback included, as lines: tmux draws them
 * and reports its screen. The pane stays open (on `read`) until the server is killed, so that
 * nothing tmux adds when a pane ends shifts the screen.
 */
export async function screenAfter(bytes: string, size: TerminalSize): Promise<string[]> {
  // Short: a unix socket's path has a limit of about 100 bytes.
  const dir = await mkdtemp('/tmp/hub-screen-');
  const [file, config, socket] = [join(dir, 'bytes'), join(dir, 'tmux.conf'), join(dir, 'tmux.sock')];
  await writeFile(file, bytes);
  await writeFile(config, 'set -g status off\n');
  const tmux = (...args: string[]) =>
    run('tmux', ['-S', socket, '-f', config, ...args], {env: {PATH: process.env.PATH, TERM: 'xterm-256color'}});
  try {
    await tmux(
      'new-session',
      '-d',
      '-x',
      String(size.columns),
      '-y',
      String(size.rows),
      `cat '${file}' && tmux -S '${socket}' wait-for -S drawn && read nothing`,
    );
    await tmux('wait-for', 'drawn');
    const {stdout} = await tmux('capture-pane', '-p', '-S', '-');
    return stdout.replace(/\n+$/, '').split('\n');
  } finally {
    await tmux('kill-server').catch(() => undefined);
    await rm(dir, {recursive: true, force: true});
  }
}
