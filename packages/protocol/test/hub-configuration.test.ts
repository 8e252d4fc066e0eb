import {describe, expect, it} from 'vitest';
import {hubConfigurationSchema} from '../src/hub-configuration.js';

describe('the hub-configuration document', () => {
  const document = {issuer: 'https://id.example.com/realms/acme', client_id: 'hub-cli', scopes: 'openid offline_access'};

  it('takes what hub-auth publishes', () => {
    expect(hubConfigurationSchema.safeParse(document).success).toBe(true);
  });

  it.each([
    ['issuer', `https://id.example.com/${'a'.repeat(16 * 1024)}`],
    ['client_id', 'c'.repeat(16 * 1024)],
    ['device_client_id', 'd'.repeat(16 * 1024)],
    ['scopes', 's '.repeat(8 * 1024)],
    ['service', 'v'.repeat(16 * 1024)],
    ['web_hub', `https://hub.example.com/${'w'.repeat(16 * 1024)}`],
  ])('refuses a %s of 16 KB, which hub would show the person', (field, value) => {
    const parsed = hubConfigurationSchema.safeParse({...document, [field]: value});
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual([field]);
  });
});
