/**
 * The limits hub-auth-load.ts holds hub-auth against, each pinned to hub-auth's core: a server
 * that answers every request with the bytes hub-auth answered a token request with (status,
 * headers and body, read from the JSON file named by the first argument) and does nothing else.
 * The second argument says on what:
 * - `node:http`: node's HTTP stack alone, the limit of any token service written for node;
 * - `fastify`: the framework hub-auth is built on, with one route, so that what fastify itself
 *   costs is told apart from what hub-auth's route costs;
 * - `node:http-signing`: node's HTTP stack signing the token anew for every answer, with
 *   hub-auth's own signer, key and certificate (the further arguments: key file, certificate
 *   file, the claims as JSON), the limit of a hub-auth that reuses no token.
 * Prints the port it listens on.
 */
import {readFile} from 'node:fs/promises';
import {createServer, type RequestListener, type Server} from 'node:http';
import Fastify from 'fastify';
import {hubAuthSigner} from './signer.js';

export interface RecordedResponse {
  status: number;
  /** Name and value pairs, as hub-auth sent them, less those node:http writes itself. */
  headers: Array<[string, string]>;
  body: string;
}

export const LIMIT_SERVERS = ['node:http', 'fastify', 'node:http-signing'] as const;
export type LimitServer = (typeof LIMIT_SERVERS)[number];

const [answerFile, kind, ...signingArgs] = process.argv.slice(2) as [string, LimitServer, ...string[]];
const recorded = JSON.parse(await readFile(answerFile, 'utf8')) as RecordedResponse;
const body = Buffer.from(recorded.body);
const headers = recorded.headers.flat();

async function nodeHttpListener(): Promise<RequestListener> {
  if (kind === 'node:http') {
    return (request, response) => {
      request.resume();
      response.writeHead(recorded.status, headers);
      response.end(body);
    };
  }
  const [keyFile, certificateFile, claimsJson] = signingArgs as [string, string, string];
  const signer = await hubAuthSigner(keyFile, certificateFile);
  const claims = JSON.parse(claimsJson) as Record<string, unknown>;
  // The answer carries the token twice (token and access_token); a new signature has the same length.
  const {token} = JSON.parse(recorded.body) as {token: string};
  const [before, between, after] = recorded.body.split(token) as [string, string, string];
  return (request, response) => {
    request.resume();
    const signed = signer.sign(claims);
    response.writeHead(recorded.status, headers);
    response.end(before + signed + between + signed + after);
  };
}

async function listen(): Promise<number> {
  if (kind === 'fastify') {
    const app = Fastify();
    const byName = Object.fromEntries(recorded.headers);
    app.get('/token', (_request, reply) => reply.code(recorded.status).headers(byName).send(body));
    await app.listen({host: '127.0.0.1', port: 0});
    return portOf(app.server);
  }
  const server = createServer(await nodeHttpListener());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return portOf(server);
}

/** The port the system chose for a server listening on port 0. */
function portOf(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

if (!(LIMIT_SERVERS as readonly string[]).includes(kind))
  throw new Error(`unknown limit server "${kind}": one of ${LIMIT_SERVERS.join(', ')}`);
process.stdout.write(`listening ${await listen()}\n`);
