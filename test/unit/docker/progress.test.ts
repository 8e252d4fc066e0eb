import {PassThrough} from 'node:stream';
import {stripVTControlCharacters} from 'node:util';
import {describe, expect, it} from 'vitest';
import {createProgressRenderer, describe as describeEvent, formatBytes, progressMode} from '../../../src/docker/progress.js';

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk) => (text += chunk));
  return {stream, text: () => text};
}

describe('progress', () => {
  it('words events as docker does', () => {
    expect(describeEvent({status: 'Preparing', id: 'abc123'})).toBe('abc123: Preparing');
    expect(describeEvent({status: 'Pushing', id: 'abc123', progressDetail: {current: 12_300_000, total: 40_100_000}})).toBe('abc123: Pushing  12.3MB/40.1MB');
    expect(describeEvent({status: 'The push refers to repository [r/a/b]'})).toBe('The push refers to repository [r/a/b]');
    expect(describeEvent({aux: {Digest: 'sha256:x'}})).toBeUndefined();
    expect(formatBytes(512)).toBe('512B');
    expect(formatBytes(1_530)).toBe('1.53kB');
  });

  it("shows the engine's words without the control characters a registry may have put in them", () => {
    expect(describeEvent({status: 'Pulling from x\x1b]0;owned\x07\x1b[2K', id: 'abc\x1b[1A123'})).toBe('abc123: Pulling from x');
  });

  it('without a terminal, prints a line per change of state, not per tick', async () => {
    const out = capture();
    const renderer = await createProgressRenderer('plain', out.stream);
    renderer.update({status: 'The push refers to repository [r/a/b]'});
    renderer.update({status: 'Preparing', id: 'l1'});
    for (const current of [1_000, 2_000, 3_000]) renderer.update({status: 'Pushing', id: 'l1', progressDetail: {current, total: 3_000}});
    renderer.update({status: 'Pushed', id: 'l1'});
    renderer.update({status: 'Layer already exists', id: 'l2'});
    renderer.done();
    expect(out.text()).toBe('The push refers to repository [r/a/b]\nl1: Preparing\nl1: Pushing  1.00kB/3.00kB\nl1: Pushed\nl2: Layer already exists\n');
  });

  it('on a terminal, redraws one line per layer in place', async () => {
    const out = capture();
    const renderer = await createProgressRenderer('tty', out.stream);
    renderer.update({status: 'Preparing', id: 'l1'});
    renderer.update({status: 'Preparing', id: 'l2'});
    renderer.update({status: 'Pushed', id: 'l1'});
    renderer.done();
    expect(out.text()).toContain('\u001B['); // cursor movement: the block is redrawn, not appended
    // The last frame drawn is the final state of every layer, in the order they appeared.
    expect(stripVTControlCharacters(out.text()).trimEnd().endsWith('l1: Pushed\nl2: Preparing')).toBe(true);
  });

  it('is silent when quiet, and picks the mode from the stream', async () => {
    const out = capture();
    const renderer = await createProgressRenderer('quiet', out.stream);
    renderer.update({status: 'Pushed', id: 'l1'});
    renderer.done();
    expect(out.text()).toBe('');
    expect(progressMode({isTTY: true}, false)).toBe('tty');
    expect(progressMode({isTTY: false}, false)).toBe('plain');
    expect(progressMode({isTTY: true}, true)).toBe('quiet');
  });
});
