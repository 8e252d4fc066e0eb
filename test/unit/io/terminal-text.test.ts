import {describe, expect, it} from 'vitest';
import {printable} from '../../../src/io/terminal-text.js';

const ESC = '\x1b';

describe('printable', () => {
  it('leaves ordinary text, newlines and tabs alone', () => {
    const text = 'Signing in to registry.example.com at https://id.example.com/realms/dev\n  → run `hub login`\tnow ✓ äöü 日本';
    expect(printable(text)).toBe(text);
  });

  it('removes colour and cursor sequences whole, not just their ESC', () => {
    expect(printable(`${ESC}[31mred${ESC}[0m`)).toBe('red');
    // Up a line, erase it, and write another issuer over the one shown.
    expect(printable(`https://evil.example${ESC}[1A${ESC}[2K${ESC}[1Ghttps://id.example.com`)).toBe(
      'https://evil.examplehttps://id.example.com',
    );
    expect(printable(`a\x9b2Jb`)).toBe('ab');
  });

  it('removes OSC sequences with their payload: titles, clipboard, hyperlinks', () => {
    expect(printable(`x${ESC}]0;owned${'\x07'}y`)).toBe('xy');
    expect(printable(`x${ESC}]52;c;ZXZpbA==${ESC}\\y`)).toBe('xy');
    expect(printable(`${ESC}]8;;https://evil.example${ESC}\\https://id.example.com${ESC}]8;;${ESC}\\`)).toBe('https://id.example.com');
    expect(printable(`x\x9d0;owned\x9cy`)).toBe('xy');
  });

  it('removes every other C0 and C1 control, DEL, and bidi overrides', () => {
    const controls = [...Array(0x20).keys(), 0x7f, ...Array.from({length: 0x20}, (_, i) => 0x80 + i)]
      .filter((code) => code !== 0x0a && code !== 0x09)
      .map((code) => String.fromCharCode(code))
      .join('');
    expect(printable(`a${controls}b`)).toBe('ab');
    expect(printable('carriage\rreturn')).toBe('carriagereturn');
    expect(printable('user\u202Egnp.exe\u202C \u2066x\u2069')).toBe('usergnp.exe x');
    expect(printable(`${ESC}c${ESC}(B${ESC}7reset`)).toBe('reset');
  });

  it('leaves nothing a terminal would act on, whatever comes in', () => {
    for (let round = 0; round < 500; round++) {
      const text = Array.from({length: 40}, () => String.fromCharCode(Math.floor(Math.random() * 0xa0))).join('');
      expect(printable(text)).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    }
  });
});
