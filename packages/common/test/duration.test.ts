import {describe, expect, it} from 'vitest';
import {describeSeconds} from '../src/duration.js';

describe('describeSeconds', () => {
  it('says whole hours and minutes as such, anything else in seconds', () => {
    expect(describeSeconds(3600)).toBe('1 h');
    expect(describeSeconds(7200)).toBe('2 h');
    expect(describeSeconds(120)).toBe('2 min');
    expect(describeSeconds(5400)).toBe('90 min');
    expect(describeSeconds(61)).toBe('61 s');
  });
});
