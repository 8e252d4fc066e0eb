import {describe, expect, it} from 'vitest';
import {confirmDiscoveredIssuer, issuerOnRegistryDomain} from '../../../src/auth/issuer-trust.js';
import {HubError} from '@hub/common/errors';
import {registryAudience} from '@hub/protocol/registry-audience';

describe('trust on first use of a discovered issuer', () => {
  it.each([
    ['registry.example.com', 'https://id.example.com/realms/dev', true],
    ['registry.example.com:5000', 'https://example.com', true],
    ['registry.example.co.uk', 'https://id.example.co.uk', true],
    ['registry.example.co.uk', 'https://id.other.co.uk', false],
    ['registry.example.com', 'https://example.com.evil.test', false],
    ['company.github.io', 'https://evil.github.io', false],
    ['registry.company.github.io', 'https://id.company.github.io', true],
    ['127.0.0.1:5000', 'http://127.0.0.1:8080', true],
    ['localhost:5000', 'http://127.0.0.1:8080', false],
  ])('%s and %s are on one domain: %s', (registry, issuer, same) => {
    expect(issuerOnRegistryDomain(registry, issuer)).toBe(same);
  });

  it('asks only for an issuer off the registry’s domain, and without a terminal names the flags', async () => {
    const asked: string[] = [];
    const answer = (value: boolean | undefined) => async (question: string) => (asked.push(question), value);
    await confirmDiscoveredIssuer('registry.example.com', 'https://id.example.com', answer(false));
    expect(asked).toEqual([]);
    await confirmDiscoveredIssuer('registry.example.com', 'https://login.idp.test', answer(true));
    expect(asked).toHaveLength(1);
    await expect(confirmDiscoveredIssuer('registry.example.com', 'https://login.idp.test', answer(false))).rejects.toMatchObject({
      code: 'cancelled',
      exit: 130,
    });
    const refused = await confirmDiscoveredIssuer('registry.example.com', 'https://login.idp.test', answer(undefined)).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(HubError);
    expect(refused).toMatchObject({code: 'issuer_unconfirmed', exit: 2});
    expect((refused as HubError).suggestions.join(' ')).toMatch(/--yes.*--issuer https:\/\/login\.idp\.test/);
  });
});

describe('registryAudience', () => {
  it('is the registry’s name as an https URL, port kept, case folded', () => {
    expect(registryAudience('registry.example.com')).toBe('https://registry.example.com');
    expect(registryAudience('Localhost:5000')).toBe('https://localhost:5000');
    expect(registryAudience('127.0.0.1:5000')).not.toBe(registryAudience('127.0.0.1:5001'));
  });
});
