import {describe, expect, it} from 'vitest';
import {passedOn, PASSED_ON_LENGTH, quoted, QUOTED_LENGTH} from '../src/quote.js';

describe('quoting a value from outside in a message', () => {
  it('quotes a short value whole, as JSON', () => {
    expect(quoted('pa"ss')).toBe('"pa\\"ss"');
    expect(passedOn('The user refused to sign in.')).toBe('The user refused to sign in.');
    expect(quoted(['a', 1])).toBe('["a",1]');
    expect(quoted(undefined)).toBe('undefined');
  });

  it('cuts a long value and says how much was cut', () => {
    const long = 'x'.repeat(16 * 1024);
    expect(quoted(long)).toBe(`"${'x'.repeat(QUOTED_LENGTH)}"… (${long.length - QUOTED_LENGTH} more characters cut)`);
    expect(quoted([long])).toBe(`["${'x'.repeat(QUOTED_LENGTH - 2)}… (${long.length + 4 - QUOTED_LENGTH} more characters cut)`);
    expect(passedOn(long)).toBe(`${'x'.repeat(PASSED_ON_LENGTH)}… (${long.length - PASSED_ON_LENGTH} more characters cut)`);
  });

  it('never splits a character made of two UTF-16 units', () => {
    const text = 'a'.repeat(QUOTED_LENGTH - 1) + '😀'.repeat(10);
    const cut = JSON.parse(quoted(text).split('…')[0]!) as string;
    expect(cut).toBe('a'.repeat(QUOTED_LENGTH - 1));
    expect(cut).not.toMatch(/[\ud800-\udfff]/);
  });
});
