import {describe, expect, it} from 'vitest';
import {sharedRuns} from '../../src/in-flight.js';

describe('sharedRuns', () => {
  it('runs the work once for callers that ask while it runs, and again once it is over', async () => {
    const run = sharedRuns<string, number>();
    let runs = 0;
    const work = async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return runs;
    };
    expect(await Promise.all([run('a', work), run('a', work), run('a', work)])).toEqual([1, 1, 1]);
    expect(await run('a', work)).toBe(2);
  });

  it('keeps keys apart', async () => {
    const run = sharedRuns<string, string>();
    expect(await Promise.all([run('a', async () => 'a'), run('b', async () => 'b')])).toEqual(['a', 'b']);
  });

  it('gives every caller of a failed run its error, and the next caller a new run', async () => {
    const run = sharedRuns<string, string>();
    const failing = async () => {
      throw new Error('the store cannot answer');
    };
    const outcomes = await Promise.allSettled([run('a', failing), run('a', failing)]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(await run('a', async () => 'answered')).toBe('answered');
  });
});
