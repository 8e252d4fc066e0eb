import {printable} from '../io/terminal-text.js';

/**
 * Renders the engine's JSON progress stream the way `docker push`/`docker pull` do: one line per
 * layer, redrawn in place on a terminal, a line per change of state otherwise, nothing when quiet.
 */

export interface ProgressEvent {
  status?: string;
  id?: string;
  progressDetail?: {current?: number; total?: number};
  error?: string;
  errorDetail?: {message?: string};
  aux?: {Tag?: string; Digest?: string; Size?: number};
}

export type ProgressMode = 'tty' | 'plain' | 'quiet';

export interface ProgressRenderer {
  update(event: ProgressEvent): void;
  done(): void;
}

export function progressMode(stream: {isTTY?: boolean}, quiet: boolean): ProgressMode {
  if (quiet) return 'quiet';
  return stream.isTTY ? 'tty' : 'plain';
}

/** Async because log-update (and what it loads) is needed only to redraw a terminal. */
export async function createProgressRenderer(mode: ProgressMode, stream: NodeJS.WritableStream): Promise<ProgressRenderer> {
  if (mode === 'quiet') return {update() {}, done() {}};
  const layers = new Map<string, string>();
  if (mode === 'plain') {
    return {
      update(event) {
        const line = describe(event);
        if (!line) return;
        if (event.id) {
          // Only a change of state is news when nobody watches the line being redrawn.
          const state = line.replace(/\s+[\d.]+[kMGT]?B\/[\d.]+[kMGT]?B$/, '');
          if (layers.get(event.id) === state) return;
          layers.set(event.id, state);
        }
        stream.write(`${line}\n`);
      },
      done() {},
    };
  }
  const {createLogUpdate} = await import('log-update');
  const live = createLogUpdate(stream as NodeJS.WriteStream, {showCursor: true});
  const redraw = () => live([...layers.values()].join('\n'));
  return {
    update(event) {
      const line = describe(event);
      if (!line) return;
      if (event.id) {
        layers.set(event.id, line);
      } else {
        live.clear();
        stream.write(`${line}\n`);
      }
      redraw();
    },
    done() {
      live.done();
    },
  };
}

/**
 * The words docker shows for an event, e.g. `4f4fb700ef54: Pushing  12.3MB/40.1MB`. The engine
 * relays what registries say, so the words lose their control characters; the redraw adds its own.
 */
export function describe(event: ProgressEvent): string | undefined {
  if (event.aux || !event.status) return undefined;
  const {current, total} = event.progressDetail ?? {};
  const amount = current !== undefined && total ? `  ${formatBytes(current)}/${formatBytes(total)}` : '';
  return printable(event.id ? `${event.id}: ${event.status}${amount}` : event.status);
}

/** docker's units: decimal, three significant digits. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toPrecision(3)}${units[unit]}`;
}
