import {printable} from '../io/terminal-text.js';

/**
 * Renders the engine's JSON progress stream as `docker push`/`docker pull` do (docker's
 * jsonmessage): on a terminal, a block of one line per layer, each redrawn in place with a bar;
 * the lines that are not a layer's progress (the repository, the digest, the status) print below
 * the block and close it, so a later layer line starts a new block under them. Without a
 * terminal, no cursor movement and no ticks: the lines docker prints there.
 */

export interface ProgressEvent {
  status?: string;
  id?: string;
  /** Present (possibly empty) on a layer's line, absent on a message such as the digest line. */
  progressDetail?: {current?: number; total?: number; hidecounts?: boolean; units?: string};
  error?: string;
  errorDetail?: {message?: string};
  aux?: {Tag?: string; Digest?: string; Size?: number};
}

export type ProgressMode = 'tty' | 'plain' | 'quiet';

export type ProgressRenderer = (event: ProgressEvent) => void;

/**
 * A terminal that reports 0 rows (a pseudo-terminal nobody sized, as under `script` from a pipe
 * or some CI runners) says nothing of how it draws: plain lines are what is sure to be readable.
 */
export function progressMode(stream: {isTTY?: boolean; rows?: number}, quiet: boolean): ProgressMode {
  if (quiet) return 'quiet';
  return stream.isTTY && stream.rows !== 0 ? 'tty' : 'plain';
}

/** docker's width when the terminal does not tell its size. */
const UNKNOWN_WIDTH = 200;
/** docker draws the bar only on terminals wider than this. */
const BAR_MIN_WIDTH = 110;
const BAR_WIDTH = 50;

/** Control Sequence Introducer: the cursor moves and the erasing, as docker writes them. */
const CSI = '\u001B[';

export function createProgressRenderer(mode: ProgressMode, stream: NodeJS.WritableStream & {columns?: number}): ProgressRenderer {
  if (mode === 'quiet') return () => {};
  if (mode === 'plain') {
    return (event) => {
      if (event.aux || !event.status) return;
      // A tick is news only to someone watching a line being redrawn.
      if ((event.progressDetail?.current ?? 0) > 0 || (event.progressDetail?.total ?? 0) > 0) return;
      stream.write(`${label(event)}\n`);
    };
  }
  // The block's layers by id, in the order they appeared; the cursor waits on the line below it.
  let block = new Map<string, number>();
  return (event) => {
    if (event.aux || !event.status) return;
    if (!(event.id && event.progressDetail)) {
      block = new Map();
      stream.write(`${label(event)}\n`);
      return;
    }
    let row = block.get(event.id);
    if (row === undefined) {
      row = block.size;
      block.set(event.id, row);
      stream.write('\n');
    }
    const up = block.size - row;
    const amount = progressText(event.progressDetail, stream.columns ?? UNKNOWN_WIDTH);
    stream.write(`${CSI}${up}A${CSI}2K\r${label(event, amount)}\r${CSI}${up}B`);
  };
}

/**
 * `4f4fb700ef54: Pushing [==>  ]  1MB/2MB` or a message. The engine relays what registries say,
 * so the words lose their control characters; the redraw adds its own.
 */
export function label(event: ProgressEvent, amount = ''): string {
  const words = event.id ? `${event.id}: ${event.status ?? ''}` : (event.status ?? '');
  return printable(amount ? `${words} ${amount}` : words);
}

/** docker's progress: `[=====>      ]  10.55MB/20.97MB`, the bar only on a wide terminal. */
export function progressText(detail: NonNullable<ProgressEvent['progressDetail']>, width: number): string {
  const current = detail.current ?? 0;
  const total = detail.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return detail.units ? `${current} ${detail.units}` : humanSize(current).padStart(8);
  const filled = Math.max(0, Math.min(BAR_WIDTH, Math.floor(Math.floor((current / total) * 100) / 2)));
  const bar = width > BAR_MIN_WIDTH ? `[${'='.repeat(filled)}>${' '.repeat(BAR_WIDTH - filled)}] ` : '';
  return `${bar}${counts(detail, current, total)}`.trimEnd();
}

/** `10.55MB/20.97MB`, `3/5 layers`, or the current alone when it is beyond the total (the engine's rounding). */
function counts(detail: NonNullable<ProgressEvent['progressDetail']>, current: number, total: number): string {
  if (detail.hidecounts) return '';
  const beyond = current > total;
  if (detail.units) return beyond ? `${current} ${detail.units}` : `${current}/${total} ${detail.units}`;
  return `${humanSize(current).padStart(8)}${beyond ? '' : `/${humanSize(total)}`}`;
}

/** docker's human sizes: decimal units, four significant digits, no trailing zeros (`10.55MB`, `1kB`). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${Number(value.toPrecision(4))}${units[unit]}`;
}
