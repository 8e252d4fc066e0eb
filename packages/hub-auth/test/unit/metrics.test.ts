import {Counter, Histogram, Registry} from 'prom-client';
import {describe, expect, it} from 'vitest';
import {createMetrics, LabeledCounter, LatencyHistogram} from '../../src/metrics.js';
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

  it('writes the request counter and latency histogram exactly as prom-client does for the same updates', async () => {
    const buckets = [0.0005, 0.001, 0.0025, 0.01, 2.5];
    const ownCounter = new LabeledCounter<[string, string]>('requests_total', 'Requests', ['grant', 'outcome']);
    const ownHistogram = new LatencyHistogram('duration_seconds', 'Time', buckets);
    const registry = new Registry();
    const counter = new Counter({name: 'requests_total', help: 'Requests', labelNames: ['grant', 'outcome'], registers: [registry]});
    const histogram = new Histogram({name: 'duration_seconds', help: 'Time', labelNames: ['grant'], buckets, registers: [registry]});
    const updates: Array<[grant: string, outcome: string, seconds: number]> = [
      ['password', 'issued', 0.0004],
      ['password', 'issued', 0.001],
      ['refresh_token', 'denied', 0.02],
      ['odd "grant"\\\n', 'error', 7],
      ['password', 'unauthorized', 0.0025],
    ];
    for (const [grant, outcome, seconds] of updates) {
      ownCounter.inc(grant, outcome);
      ownHistogram.observe(grant, seconds);
      counter.inc({grant, outcome});
      histogram.observe({grant}, seconds);
    }
    const lines = (text: string) =>
      text
        .split('\n')
        .filter((line) => line !== '')
        .sort();
    expect(lines(ownCounter.text() + ownHistogram.text())).toEqual(lines(await registry.metrics()));
  });
});
