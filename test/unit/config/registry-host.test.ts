import {describe, expect, it} from 'vitest';
import {normalizeRegistryHost} from '../../../src/config/registry-host.js';

describe('normalizeRegistryHost', () => {
  it.each([
    ['registry.example.com', 'registry.example.com'],
    ['https://Registry.Example.com/', 'registry.example.com'],
    ['http://localhost:5000/v2/', 'localhost:5000'],
    ['localhost:5000', 'localhost:5000'],
    ['[::1]:5000', '[::1]:5000'],
    ['https://registry.example.com:443', 'registry.example.com:443'],
    ['  registry.example.com//  ', 'registry.example.com'],
    // What docker, podman and nerdctl send a credential helper for one registry.
    ['https://registry.example.com', 'registry.example.com'],
    ['https://registry.example.com/v1/', 'registry.example.com'],
    ['REGISTRY.example.com', 'registry.example.com'],
    ['http://localhost:5000', 'localhost:5000'],
    ['https://localhost:5000/v1/', 'localhost:5000'],
    ['registry.example.com:5000', 'registry.example.com:5000'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeRegistryHost(input)).toBe(expected);
  });

  it.each(['', 'https://user:pw@registry.example.com', 'http://'])('rejects %j with a usage error', (input) => {
    expect(() => normalizeRegistryHost(input)).toThrow(expect.objectContaining({exit: 2, code: 'invalid_registry'}));
  });
});
