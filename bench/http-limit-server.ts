/**
 * The HTTP stack's limit for hub-auth-load.ts: a bare node:http server, pinned to hub-auth's core,
 * that answers every request with the bytes hub-auth answered a token request with (status,
 * headers and body, read from the JSON file named by the only argument) and does nothing else.
 * Prints the port it listens on.
 */
import {readFile} from 'node:fs/promises';
import {createServer} from 'node:http';

export interface RecordedResponse {
  status: number;
  /** Name and value pairs, as hub-auth sent them, less those node:http writes itself. */
  headers: Array<[string, string]>;
  body: string;
}

const recorded = JSON.parse(await readFile(process.argv[2]!, 'utf8')) as RecordedResponse;
const body = Buffer.from(recorded.body);
const server = createServer((request, response) => {
  request.resume();
  response.writeHead(recorded.status, recorded.headers.flat());
  response.end(body);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
