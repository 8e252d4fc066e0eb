import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterEach} from 'vitest';
import {NAMESPACE_LISTING, type NamespaceListing} from '@hub/protocol/catalog';

/**
 * A registry's token service as hub's flows meet it, on loopback: `GET /v2/` answers the Bearer
 * challenge naming its realm, `POST /token` an identity token (a JWT with iat, exp and `chk`), and
 * `POST /revoke` what `revokeStatus` says, `GET /namespaces` what `namespaces` says (404 when
 * unset). It records each form it is sent.
 */
export interface FakeHubAuth {
  /** docker's name for the registry: 127.0.0.1:PORT. */
  host: string;
  forms: Array<{path: string; form: Record<string, string>}>;
  revokeStatus: number;
  namespaces?: NamespaceListing;
  /** The re-check window its identity tokens carry. */
  recheckSeconds: number;
  /** An identity token as it signs them (unsigned here: hub reads, never checks, its claims). */
  identityToken(iat: number, exp: number, chk?: number): string;
  /** Stops answering: the host then refuses connections. */
  close(): Promise<void>;
}

const started: FakeHubAuth[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((fake) => fake.close()));
});

export async function fakeHubAuth(nowSeconds: () => number): Promise<FakeHubAuth> {
  let issued = 0;
  const identityToken = (iat: number, exp: number, chk = fake.recheckSeconds) =>
    ['{"alg":"none"}', JSON.stringify({iat, exp, chk, n: ++issued})].map((part) => Buffer.from(part).toString('base64url')).join('.') +
    '.sig';
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      if (request.method === 'GET' && path === '/v2/') {
        const realm = `http://${request.headers.host}/token`;
        response.writeHead(401, {'www-authenticate': `Bearer realm="${realm}",service="registry"`}).end();
        return;
      }
      if (request.method === 'GET' && path === `/${NAMESPACE_LISTING}`) {
        const {namespaces} = fake;
        response.writeHead(namespaces ? 200 : 404, {'content-type': 'application/json'}).end(JSON.stringify(namespaces ?? {}));
        return;
      }
      fake.forms.push({path, form: Object.fromEntries(new URLSearchParams(body))});
      if (path === '/revoke') {
        response.writeHead(fake.revokeStatus, fake.revokeStatus === 503 ? {'retry-after': '5'} : {}).end();
        return;
      }
      const now = nowSeconds();
      response
        .writeHead(200, {'content-type': 'application/json'})
        .end(JSON.stringify({refresh_token: identityToken(now, now + 8 * 3600)}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closed = false;
  const fake: FakeHubAuth = {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    forms: [],
    revokeStatus: 200,
    recheckSeconds: 3600,
    identityToken,
    close: () =>
      closed
        ? Promise.resolve()
        : new Promise<void>((resolve) => ((closed = true), server.closeAllConnections(), server.close(() => resolve()))),
  };
  started.push(fake);
  return fake;
}
