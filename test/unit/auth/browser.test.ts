import {describe, expect, it} from 'vitest';
import {browserOpener} from '../../../src/auth/browser.js';

const open = (command: string) => browserOpener({HUB_BROWSER: command, PATH: process.env.PATH}, 'linux')('http://127.0.0.1:1/once');

describe('HUB_BROWSER', () => {
  it('counts as opened when the command hands the URL over', async () => {
    expect(await open('/bin/true')).toBe(true);
  });

  it('does not count as opened when the command fails or cannot start, so hub does not claim it did', async () => {
    expect(await open('/bin/false')).toBe(false);
    expect(await open('/nonexistent/browser --new-tab')).toBe(false);
  });
});
