import {Gauge, Registry, collectDefaultMetrics} from 'prom-client';
import {hubAuthVersion} from './version.js';

/**
 * What /metrics shows: requests by grant and outcome, their latency, access token checks, the
 * provider's back-channel logouts by outcome, the version, when each signing certificate expires,
 * and the process's own (prom-client's default metrics). The per-request ones are kept here rather than
 * by prom-client, which checks and hashes the labels on every update and finds a histogram's
 * bucket through an object keyed by the bound's text: together a tenth of a token request's time
 * once the signature is reused. Here an update is a map lookup and a few additions. Even with
 * prom-client's child of each label set kept (no hashing), one request's updates cost 1.5 µs of
 * CPU against 0.2 µs here (bench/metrics-update.ts, 2026-12-02): 2–3 % of a cached token request
 * (64 µs at 15,700 requests/s on one core), while hub-auth meets its ≥ 0.5× throughput target by
 * 0.52× (README, Performance). The output is checked against prom-client's own (metrics.test.ts).
 */
export interface TokenServiceMetrics {
  registry: Registry;
  requests: LabeledCounter<[grant: string, outcome: string]>;
  duration: LatencyHistogram;
  checks: LabeledCounter<[method: string]>;
  backchannelLogouts: LabeledCounter<[outcome: string]>;
  /** Replaces the certificates shown: the signing one and those published beside it. */
  showSigningCertificates(certificates: readonly CertificateExpiry[]): void;
  /** The Prometheus text of all of them. */
  text(): Promise<string>;
}

export interface CertificateExpiry {
  kid: string;
  /** `signing` for the key that signs, `published` for one that only still verifies. */
  role: 'signing' | 'published';
  notAfter: Date;
}

export function createMetrics(): TokenServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({register: registry});
  new Gauge({
    name: 'hub_auth_build_info',
    help: 'Always 1; the label says which hub-auth version runs',
    labelNames: ['version'],
    registers: [registry],
  }).set({version: hubAuthVersion()}, 1);
  // An expired signing certificate makes the registry refuse every token: alert well before.
  const certificateExpiry = new Gauge({
    name: 'hub_auth_signing_certificate_expiry_seconds',
    help: 'When each certificate hub-auth signs with or publishes expires (its notAfter), in seconds since the epoch',
    labelNames: ['kid', 'role'],
    registers: [registry],
  });
  const requests = new LabeledCounter<[grant: string, outcome: string]>(
    'hub_auth_token_requests_total',
    'Token requests by grant (anonymous, password, refresh_token, unknown) and outcome (issued, unauthorized, denied, bad_request, overloaded, upstream_error, store_unavailable, misconfigured, error)',
    ['grant', 'outcome'],
  );
  const duration = new LatencyHistogram(
    'hub_auth_token_request_duration_seconds',
    'Time to answer a token request',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  );
  const checks = new LabeledCounter<[method: string]>(
    'hub_auth_access_token_checks_total',
    'OIDC access token checks by how they were answered: cache, jwt (local signature check), introspection or userinfo',
    ['method'],
  );
  const backchannelLogouts = new LabeledCounter<[outcome: string]>(
    'hub_auth_backchannel_logouts_total',
    "The identity provider's back-channel logouts by outcome: accepted, refused (a bad or replayed logout token) or unavailable (the store or the provider's keys could not answer; the provider sends it again)",
    ['outcome'],
  );
  return {
    registry,
    requests,
    duration,
    checks,
    backchannelLogouts,
    showSigningCertificates(certificates) {
      certificateExpiry.reset();
      for (const {kid, role, notAfter} of certificates) certificateExpiry.set({kid, role}, Math.floor(notAfter.getTime() / 1000));
    },
    text: async () => [await registry.metrics(), requests.text(), duration.text(), checks.text(), backchannelLogouts.text()].join('\n'),
  };
}

/** A Prometheus counter with labels; the values are given in the order of the label names. */
export class LabeledCounter<Values extends string[]> {
  private readonly series = new Map<string, {values: Values; count: number}>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: {[Index in keyof Values]: string},
  ) {}

  inc(...values: Values): void {
    const key = values.join('\u0000');
    const known = this.series.get(key);
    if (known === undefined) this.series.set(key, {values, count: 1});
    else known.count += 1;
  }

  text(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const {values, count} of this.series.values()) lines.push(`${this.name}{${labels(this.labelNames, values)}} ${count}`);
    return `${lines.join('\n')}\n`;
  }
}

/** A Prometheus histogram of seconds by grant. */
export class LatencyHistogram {
  private readonly byGrant = new Map<string, {buckets: Float64Array; sum: number; count: number}>();

  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds in seconds, ascending. */
    private readonly bounds: readonly number[],
  ) {}

  observe(grant: string, seconds: number): void {
    let series = this.byGrant.get(grant);
    if (series === undefined) {
      series = {buckets: new Float64Array(this.bounds.length), sum: 0, count: 0};
      this.byGrant.set(grant, series);
    }
    for (let index = 0; index < this.bounds.length; index++) {
      if (seconds <= this.bounds[index]!) {
        series.buckets[index]! += 1;
        break;
      }
    }
    series.sum += seconds;
    series.count += 1;
  }

  /** The exposition format's lines, buckets counted cumulatively as it wants. */
  text(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [label, series] of this.byGrant) {
      const grant = labels(['grant'], [label]);
      let cumulative = 0;
      this.bounds.forEach((bound, index) => {
        cumulative += series.buckets[index]!;
        lines.push(`${this.name}_bucket{le="${bound}",${grant}} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket{le="+Inf",${grant}} ${series.count}`);
      lines.push(`${this.name}_sum{${grant}} ${series.sum}`);
      lines.push(`${this.name}_count{${grant}} ${series.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

function labels(names: readonly string[], values: readonly string[]): string {
  return names.map((name, index) => `${name}="${escapeLabelValue(values[index]!)}"`).join(',');
}

function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (character) => (character === '\n' ? '\\n' : `\\${character}`));
}
