import {describe, expect, it} from 'vitest';
import {environmentSession} from '../../../src/session/environment-token.js';
import {HubError} from '@hub/common/errors';

const env = {HUB_TOKEN: 'opaque-token', HUB_REGISTRY: 'Registry.Example.com:5000'};

function refusal(run: () => unknown): HubError {
  try {
    run();
  } catch (error) {
    if (error instanceof HubError) return error;
    throw error;
  }
  throw new Error('no error');
}

describe('HUB_TOKEN', () => {
  it('is nothing without HUB_TOKEN', () => {
    expect(environmentSession({HUB_REGISTRY: 'r.example.com'}, 'r.example.com')).toBeUndefined();
  });

  it('is a session for the registry HUB_REGISTRY names, however that registry is spelled', () => {
    expect(environmentSession(env, undefined)).toMatchObject({
      registry: 'registry.example.com:5000',
      accessToken: 'opaque-token',
      account: 'hub',
    });
    expect(environmentSession(env, 'https://registry.example.com:5000/')).toMatchObject({registry: 'registry.example.com:5000'});
  });

  it('is refused for any other registry, saying that it is for HUB_REGISTRY only', () => {
    const error = refusal(() => environmentSession(env, 'other.example.com'));
    expect(error.code).toBe('token_for_other_registry');
    expect(error.exit).toBe(2);
    expect(error.message).toContain('HUB_TOKEN is for registry.example.com:5000 (HUB_REGISTRY) only');
    expect(error.message).toContain('other.example.com');
    expect(error.message).not.toContain('opaque-token');
  });

  it('needs HUB_REGISTRY: a registry named by the command is not enough', () => {
    const error = refusal(() => environmentSession({HUB_TOKEN: 'opaque-token'}, 'registry.example.com'));
    expect(error.code).toBe('registry_required');
    expect(error.suggestions.join(' ')).toContain('Set HUB_REGISTRY');
  });
});
