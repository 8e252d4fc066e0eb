import {execFile} from 'node:child_process';
import {createServer} from 'node:http';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {nodeDebugEnables, refuseNodeHttpDebug} from '../../../src/docker/debug-output.js';

describe("node's debug output, which would print what hub hands the engine", () => {
  it.each([
    ['http', true],
    ['HTTP', true],
    ['net,http', true],
    ['ht*', true],
    ['*', true],
    ['net, http', false], // node does not trim: " http" is not "http"
    ['http2', false],
    ['net,tls', false],
    ['', false],
    [undefined, false],
  ])('NODE_DEBUG=%j takes in the http section: %s', (nodeDebug, expected) => {
    expect(nodeDebugEnables(nodeDebug, 'http')).toBe(expected);
  });

  it('stops a push or pull under NODE_DEBUG=http with a usage error that says what to do', () => {
    expect(() => refuseNodeHttpDebug('net,http*')).toThrow(
      expect.objectContaining({
        code: 'unsafe_debug_output',
        exit: 2,
        message: expect.stringContaining("NODE_DEBUG=net,http* turns on node's http and https debug output"),
      }),
    );
    expect(() => refuseNodeHttpDebug('net,tls')).not.toThrow();
    expect(() => refuseNodeHttpDebug(undefined)).not.toThrow();
  });

  it('is needed: under NODE_DEBUG=http, node prints the X-Registry-Auth dockerode sends on a new connection', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hub-node-debug-'));
    const socketPath = join(dir, 'engine.sock');
    const engine = createServer((_req, res) => res.writeHead(200, {'content-type': 'application/json'}).end('{"status":"done"}\n'));
    await new Promise<void>((resolve) => engine.listen(socketPath, resolve));
    const auth = Buffer.from(JSON.stringify({username: 'alice', password: 'the-access-token'})).toString('base64url');
    const script = `
      import Docker from 'dockerode';
      const docker = new Docker({socketPath: ${JSON.stringify(socketPath)}});
      const stream = await docker.getImage('registry.test/alice/app:1').push({tag: '1', authconfig: {key: ${JSON.stringify(auth)}}});
      stream.resume();
      await new Promise((resolve) => stream.on('end', resolve));
    `;
    try {
      const stderr = await new Promise<string>((resolve, reject) => {
        const child = execFile(
          process.execPath,
          ['--input-type=module', '-'],
          {cwd: process.cwd(), env: {PATH: process.env.PATH, NODE_DEBUG: 'http'}},
          (error, _stdout, stderr) => (error ? reject(error) : resolve(stderr)),
        );
        child.stdin!.end(script);
      });
      expect(stderr).toContain(auth);
    } finally {
      await new Promise<void>((resolve) => engine.close(() => resolve()));
      await rm(dir, {recursive: true, force: true});
    }
  });
});
