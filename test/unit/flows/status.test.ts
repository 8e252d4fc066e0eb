import {describe, expect, it} from 'vitest';
import {createContext} from '../../../src/context.js';
import {describeStatus, status, statusExitCode} from '../../../src/flows/status.js';

/** An unsigned JWT: status reads the claims only, as the rest of hub does for HUB_TOKEN. */
function token(claims: Record<string, unknown>): string {
  return `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
}

function statusWith(env: NodeJS.ProcessEnv) {
  // A config folder that does not exist: HUB_TOKEN needs none, and no stored session may show.
  return status(createContext(() => {}, {HUB_CONFIG_DIR: '/nonexistent/hub-status-test', ...env}));
}

describe('hub status with HUB_TOKEN', () => {
  const now = Math.floor(Date.now() / 1000);

  it('reports the environment token for HUB_REGISTRY, with the account and expiry from its claims, instead of "Not logged in"', async () => {
    const registries = await statusWith({
      HUB_TOKEN: token({iss: 'https://id.example.com', preferred_username: 'ci-bot', exp: now + 600}),
      HUB_REGISTRY: 'Registry.Example.com',
    });
    expect(registries).toEqual([
      expect.objectContaining({
        registry: 'registry.example.com',
        account: 'ci-bot',
        issuer: 'https://id.example.com',
        storage: 'environment',
        state: 'valid',
        usable: true,
      }),
    ]);
    expect(registries[0]!.expiresAt).toBe(new Date((now + 600) * 1000).toISOString());
    expect(statusExitCode(registries)).toBe(0);
    const lines = describeStatus(registries).join('\n');
    expect(lines).toContain('✓ registry.example.com\n    account:  ci-bot');
    expect(lines).toContain('storage:  environment (HUB_TOKEN');
    expect(lines).not.toContain('Not logged in');
  });

  it('takes the account from HUB_USERNAME, says when the token names no issuer, and fails once it has expired', async () => {
    const registries = await statusWith({
      HUB_TOKEN: token({sub: 'x', exp: now - 10}),
      HUB_REGISTRY: 'r.example.com',
      HUB_USERNAME: 'deployer',
    });
    expect(registries).toEqual([expect.objectContaining({account: 'deployer', usable: false, state: 'expired'})]);
    expect(statusExitCode(registries)).toBe(1);
    const lines = describeStatus(registries).join('\n');
    expect(lines).toContain('✗ r.example.com');
    expect(lines).toContain('issuer:   (not named in the token)');
    expect(lines).toContain('HUB_TOKEN expired');
  });
});
