import {describe, expect, it} from 'vitest';
import {engineFailure} from '../../../src/docker/engine.js';

describe('why the Docker engine did not answer', () => {
  it('a hung engine (the ping aborted: ABORT_ERR) did not answer within 10 s', () => {
    expect(engineFailure(Object.assign(new Error('The operation was aborted'), {name: 'AbortError', code: 'ABORT_ERR'}))).toBe(
      'it did not answer within 10 s',
    );
  });

  it('a socket error is named by its code, else its message', () => {
    expect(engineFailure(Object.assign(new Error('connect ENOENT /var/run/docker.sock'), {code: 'ENOENT'}))).toBe('ENOENT');
    expect(engineFailure(new Error('socket hang up'))).toBe('socket hang up');
  });
});
