import {describe, expect, it} from 'vitest';
import {asSentence, explainTransferFailure, TransferError} from '../../../src/docker/transfer.js';

const explain = (message: string) =>
  explainTransferFailure(new TransferError(message), {
    registry: 'registry.example.com',
    account: 'alice',
    what: 'push',
    reference: 'registry.example.com/alice/app:1',
  });

describe('what a failed push tells the person to do', () => {
  it.each([
    'Get "http://127.0.0.1:4321/token?scope=repository%3Aalice%2Fapp%3Apush%2Cpull&service=hub-registry": EOF',
    'Get "https://auth.example.com/token": dial tcp 10.0.0.5:443: connect: connection refused',
    'received unexpected HTTP status: 503 Service Unavailable',
    'unknown: the identity provider cannot be reached to check the token; try again',
    'Put "http://127.0.0.1:5000/v2/alice/app/blobs/uploads/1": net/http: TLS handshake timeout; i/o timeout',
  ])('an unreachable or overloaded realm or registry: retry, not log in (%s)', (message) => {
    const error = explain(message);
    expect(error.code).toBe('push_interrupted');
    expect(error.suggestions.join(' ')).toContain('retry the same command');
    expect(`${error.message} ${error.suggestions.join(' ')}`).not.toContain('hub login');
  });

  it('credentials the token service refused: log in', () => {
    const error = explain('unauthorized: the token has expired: log in again (hub login)');
    expect(error.code).toBe('unauthorized');
    expect(error.suggestions.join(' ')).toContain('hub login registry.example.com');
  });
});

describe('where a refused push says the account may go', () => {
  const refusal = new TransferError('denied: requested access to the resource is denied');
  const attempt = {registry: 'r.example.com', account: 'alice', what: 'push' as const, reference: 'r.example.com/x/app:1'};

  it('shows each name the token service gave, a namespace as REGISTRY/ns/…, other globs with … for *', () => {
    expect(explainTransferFailure(refusal, attempt, ['alice/*', 'teams/*/shared', 'public/hello']).suggestions).toEqual([
      "As alice you may push to r.example.com/alice/…, r.example.com/teams/…/shared and r.example.com/public/hello; ask the registry's administrator for access to others.",
    ]);
  });

  it('says so when the account may push nowhere', () => {
    expect(explainTransferFailure(refusal, attempt, []).suggestions).toEqual([
      "As alice you may push to nothing on r.example.com; ask the registry's administrator for access.",
    ]);
  });
});

describe('the engine’s words inside hub’s sentence', () => {
  it.each([
    ['manifest unknown: manifest unknown ', 'manifest unknown: manifest unknown.'],
    ['manifest unknown', 'manifest unknown.'],
    ['denied: requested access to the resource is denied.', 'denied: requested access to the resource is denied.'],
    ['something went wrong!', 'something went wrong!'],
    ['unknown: try again?  ', 'unknown: try again?'],
  ])('%j ends as %j, without a stray " ." or ".."', (engine, said) => {
    expect(asSentence(engine)).toBe(said);
    const {message} = explain(engine);
    expect(message.endsWith(`: ${said}`), message).toBe(true);
    expect(message).not.toMatch(/ \.|\.\.|[!?]\.$/);
  });
});
