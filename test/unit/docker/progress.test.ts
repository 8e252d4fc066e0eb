import {PassThrough} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {
  createProgressRenderer,
  humanSize,
  label,
  progressMode,
  progressText,
  type ProgressEvent,
  type ProgressMode,
} from '../../../src/docker/progress.js';

function render(mode: ProgressMode, events: ProgressEvent[], columns?: number): string {
  const stream = Object.assign(new PassThrough(), {columns});
  let text = '';
  stream.on('data', (chunk) => (text += chunk));
  const draw = createProgressRenderer(mode, stream);
  for (const event of events) draw(event);
  return text;
}

/**
 * What a terminal shows after `bytes`: the few controls the renderer uses (line feed, carriage
 * return, cursor up and down, erase line), on a screen without a bottom.
 */
function screen(bytes: string): string[] {
  const lines = [''];
  let row = 0;
  let col = 0;
  for (const [token, count, command] of bytes.matchAll(/\u001B\[(\d*)([A-Za-z])|[^]/g)) {
    const n = Number(count || 1);
    if (command === 'A') row = Math.max(0, row - n);
    else if (command === 'B') row += n;
    else if (command === 'K') lines[row] = '';
    else if (command) throw new Error(`unexpected control ${JSON.stringify(token)}`);
    else if (token === '\r') col = 0;
    else if (token === '\n') [row, col] = [row + 1, 0];
    else {
      const line = (lines[row] ?? '').padEnd(col);
      lines[row] = line.slice(0, col) + token + line.slice(col + 1);
      col++;
    }
    while (lines.length <= row) lines.push('');
  }
  return lines.map((line) => line.trimEnd());
}

const bar = (filled: number) => `[${'='.repeat(filled)}>${' '.repeat(50 - filled)}]`;

/** What the engine sends for a push of two layers, one of them already in the registry. */
const PUSH: ProgressEvent[] = [
  {status: 'The push refers to repository [r.example/alice/app]'},
  {status: 'Preparing', id: 'aaaa', progressDetail: {}},
  {status: 'Preparing', id: 'bbbb', progressDetail: {}},
  {status: 'Pushing', id: 'aaaa', progressDetail: {current: 10_548_576, total: 20_971_520}},
  {status: 'Layer already exists', id: 'bbbb', progressDetail: {}},
  {status: 'Pushing', id: 'aaaa', progressDetail: {current: 20_971_520, total: 20_971_520}},
  {status: 'Pushed', id: 'aaaa', progressDetail: {}},
  {status: '1.0: digest: sha256:0123 size: 528'},
  {progressDetail: {}, aux: {Tag: '1.0', Digest: 'sha256:0123', Size: 528}},
];

describe('docker-like progress', () => {
  it("sizes as docker's: decimal units, four significant digits, no trailing zeros", () => {
    expect(humanSize(0)).toBe('0B');
    expect(humanSize(512)).toBe('512B');
    expect(humanSize(1_000)).toBe('1kB');
    expect(humanSize(1_530)).toBe('1.53kB');
    expect(humanSize(10_548_576)).toBe('10.55MB');
    expect(humanSize(20_971_520)).toBe('20.97MB');
    expect(humanSize(999_999)).toBe('1000kB');
    expect(humanSize(1.5e12)).toBe('1.5TB');
  });

  it('draws a 50-wide bar before the sizes on a terminal wider than 110 columns, the sizes alone on a narrower one', () => {
    const half = {current: 10_548_576, total: 20_971_520};
    expect(progressText(half, 200)).toBe(`${bar(25)}  10.55MB/20.97MB`);
    expect(progressText(half, 111)).toBe(`${bar(25)}  10.55MB/20.97MB`);
    expect(progressText(half, 110)).toBe(' 10.55MB/20.97MB');
    expect(progressText({current: 1, total: 3}, 200)).toBe(`${bar(16)}       1B/3B`);
    expect(progressText({current: 0, total: 3}, 200)).toBe(`${bar(0)}       0B/3B`);
    // The engine's rounding can put the current beyond the total: docker then shows the current alone.
    expect(progressText({current: 32_768, total: 32_000}, 200)).toBe(`${bar(50)}  32.77kB`);
    expect(progressText({current: 1_530}, 200)).toBe('  1.53kB');
    expect(progressText({}, 200)).toBe('');
    expect(progressText({current: 3, total: 5, units: 'layers'}, 80)).toBe('3/5 layers');
    expect(progressText({current: 3, total: 5, hidecounts: true}, 200)).toBe(bar(30));
  });

  it('on a terminal, redraws each layer in place, with cursor moves only inside the block', () => {
    const half = PUSH.slice(0, 4);
    expect(render('tty', half, 200)).toBe(
      'The push refers to repository [r.example/alice/app]\n' +
        '\n\u001B[1A\u001B[2K\raaaa: Preparing\r\u001B[1B' +
        '\n\u001B[1A\u001B[2K\rbbbb: Preparing\r\u001B[1B' +
        `\u001B[2A\u001B[2K\raaaa: Pushing ${bar(25)}  10.55MB/20.97MB\r\u001B[2B`,
    );
    expect(screen(render('tty', half, 200))).toEqual([
      'The push refers to repository [r.example/alice/app]',
      `aaaa: Pushing ${bar(25)}  10.55MB/20.97MB`,
      'bbbb: Preparing',
      '',
    ]);
  });

  it('on a terminal, prints the digest and status lines below the layer block, as docker does', () => {
    expect(screen(render('tty', PUSH, 200))).toEqual([
      'The push refers to repository [r.example/alice/app]',
      'aaaa: Pushed',
      'bbbb: Layer already exists',
      '1.0: digest: sha256:0123 size: 528',
      '',
    ]);
    const pull: ProgressEvent[] = [
      {status: 'Pulling from alice/app', id: '1.0'},
      {status: 'Pulling fs layer', id: 'aaaa', progressDetail: {}},
      {status: 'Downloading', id: 'aaaa', progressDetail: {current: 1_000, total: 4_000}},
      {status: 'Pull complete', id: 'aaaa', progressDetail: {}},
      {status: 'Digest: sha256:0123'},
      {status: 'Status: Downloaded newer image for r.example/alice/app:1.0'},
    ];
    expect(screen(render('tty', pull, 80))).toEqual([
      '1.0: Pulling from alice/app',
      'aaaa: Pull complete',
      'Digest: sha256:0123',
      'Status: Downloaded newer image for r.example/alice/app:1.0',
      '',
    ]);
  });

  it('on a terminal, a layer line after a message starts a new block below the message', () => {
    const events: ProgressEvent[] = [
      {status: 'Preparing', id: 'aaaa', progressDetail: {}},
      {status: 'a message'},
      {status: 'Pushed', id: 'aaaa', progressDetail: {}},
    ];
    expect(screen(render('tty', events))).toEqual(['aaaa: Preparing', 'a message', 'aaaa: Pushed', '']);
  });

  it('without a terminal, prints plain lines in the same order, without ticks or cursor movement', () => {
    expect(render('plain', PUSH)).toBe(
      'The push refers to repository [r.example/alice/app]\n' +
        'aaaa: Preparing\n' +
        'bbbb: Preparing\n' +
        'bbbb: Layer already exists\n' +
        'aaaa: Pushed\n' +
        '1.0: digest: sha256:0123 size: 528\n',
    );
  });

  it('is silent when quiet', () => {
    expect(render('quiet', PUSH)).toBe('');
  });

  it('redraws only on a terminal that reports its rows; one with 0 rows, or no terminal, gets plain lines', () => {
    expect(progressMode({isTTY: true, rows: 50}, false)).toBe('tty');
    expect(progressMode({isTTY: true}, false)).toBe('tty'); // size unknown: docker assumes a wide one
    expect(progressMode({isTTY: true, rows: 0}, false)).toBe('plain');
    expect(progressMode({isTTY: false}, false)).toBe('plain');
    expect(progressMode({isTTY: true, rows: 50}, true)).toBe('quiet');
  });

  it("shows the engine's words without the control characters a registry may have put in them", () => {
    const hostile = '\u001B]0;owned\u0007\u001B[2K\u001B[1Aall-good\u009B2J\u202E';
    expect(label({status: `Pulling from x${hostile}`, id: 'abc\u001B[1A123'})).toBe('abc123: Pulling from xall-good');
    const events: ProgressEvent[] = [
      {status: `The push refers to repository [r/${hostile}]`},
      {status: `Preparing${hostile}`, id: `aaaa${hostile}`, progressDetail: {}},
      {status: `Pushing${hostile}`, id: `aaaa${hostile}`, progressDetail: {current: 1, total: 2, units: hostile}},
    ];
    for (const mode of ['tty', 'plain'] as const) {
      // What is left once the renderer's own moves are taken out: text, line feeds, carriage returns.
      const text = render(mode, events, 200).replace(/\u001B\[(?:\d+[AB]|2K)/g, '');
      expect(text).not.toMatch(/[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    }
    expect(screen(render('tty', events, 200))[1]).toBe(`aaaaall-good: Pushingall-good ${bar(25)} 1/2 all-good`);
  });
});
