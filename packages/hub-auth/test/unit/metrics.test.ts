import {describe, expect, it} from 'vitest';
import {createMetrics} from '../../src/metrics.js';
import {hubAuthVersion} from '../../src/version.js';

describe('hub-auth metrics', () => {
  it('says which version runs', async () => {
    expect(await createMetrics().text()).toContain(`hub_auth_build_info{version="${hubAuthVersion()}"} 1`);
  });

  it('shows the certificates last given, not those of before a rotation', async () => {
    const metrics = createMetrics();
    metrics.showSigningCertificates([{kid: 'OLD', role: 'signing', notAfter: new Date('2030-01-01T00:00:00Z')}]);
    metrics.showSigningCertificates([
      {kid: 'NEW', role: 'signing', notAfter: new Date('2031-01-01T00:00:00Z')},
      {kid: 'OLD', role: 'published', notAfter: new Date('2030-01-01T00:00:00Z')},
    ]);
    const lines = (await metrics.text()).split('\n').filter((line) => line.startsWith('hub_auth_signing_certificate_expiry_seconds{'));
    expect(lines).toEqual([
      'hub_auth_signing_certificate_expiry_seconds{kid="NEW",role="signing"} 1924992000',
      'hub_auth_signing_certificate_expiry_seconds{kid="OLD",role="published"} 1893456000',
    ]);
  });
});
