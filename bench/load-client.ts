/**
 * The load generator, in a process of its own that hub-auth-load.ts pins to the core hub-auth is
 * not on. It reads a LoadPlan (a JSON file named by the only argument) and prints a LoadResult.
 */
import {readFile} from 'node:fs/promises';
import autocannon from 'autocannon';
import {percentile} from './stats.js';

export interface LoadPlan {
  url: string;
  /** One token: every request sends it. Several: each request sends the next, each used once. */
  tokens: string[];
  /**
   * How a request sends its token: as the Basic password of a GET (an access token: docker's
   * GET /token), or as docker's refresh grant, a POST of the OAuth2 form with the token as
   * `refresh_token` and the URL's query as the form's other fields. Basic by default.
   */
  grant?: 'basic' | 'refresh_token';
  connections: number;
  /** Runs this long, or until `amount` requests are answered. */
  seconds?: number;
  amount?: number;
}

export interface LoadResult {
  /** Meaningful for timed runs only: autocannon ends a run of `amount` requests on its next one-second tick. */
  perSecond: number;
  /** Requests answered with a 2xx. */
  requests: number;
  p50Ms: number;
  p99Ms: number;
  /** Connection errors, timeouts and answers other than 2xx. */
  errors: number;
}

const basic = (token: string) => `Basic ${Buffer.from(`alice:${token}`).toString('base64')}`;

function refreshGrant(plan: LoadPlan): Partial<autocannon.Options> {
  if (plan.tokens.length !== 1) throw new Error('the refresh grant sends one identity token');
  const url = new URL(plan.url);
  const form = new URLSearchParams(url.searchParams);
  form.set('grant_type', 'refresh_token');
  form.set('refresh_token', plan.tokens[0]!);
  return {
    url: `${url.origin}${url.pathname}`,
    method: 'POST',
    headers: {'content-type': 'application/x-www-form-urlencoded'},
    body: form.toString(),
  };
}

async function main(): Promise<void> {
  const plan = JSON.parse(await readFile(process.argv[2]!, 'utf8')) as LoadPlan;
  let next = 0;
  const perRequest = plan.tokens.length > 1;
  const options: autocannon.Options = {
    url: plan.url,
    connections: plan.connections,
    ...(plan.amount === undefined ? {duration: plan.seconds} : {amount: plan.amount}),
    ...(plan.grant === 'refresh_token' ? refreshGrant(plan) : {headers: {authorization: basic(plan.tokens[0]!)}}),
    ...(perRequest
      ? {
          requests: [
            {
              setupRequest: (request) => ({
                ...request,
                headers: {...request.headers, authorization: basic(plan.tokens[next++ % plan.tokens.length]!)},
              }),
            },
          ],
        }
      : {}),
  };
  // autocannon's own histogram keeps whole milliseconds; a cache hit on loopback takes less than one.
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error, done) => (error ? reject(error as Error) : resolve(done)));
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
  const answer: LoadResult = {
    perSecond: latencies.length / result.duration,
    requests: latencies.length - result.non2xx,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    errors: result.errors + result.timeouts + result.non2xx,
  };
  process.stdout.write(JSON.stringify(answer));
}

await main();
