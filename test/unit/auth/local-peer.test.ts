import {connect, createServer, type Socket} from 'node:net';
import {endianness} from 'node:os';
import {describe, expect, it} from 'vitest';
import {connectionOwnerUid, isAnotherUser, ownerIn, socketKey} from '../../../src/auth/local-peer.js';

/** Two lines of a /proc/net/tcp: a client's end (uid 1001) and the server's end (uid 1000) of one connection. */
const TABLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:C624 0100007F:1648 01 00000000:00000000 00:00000000 00000000  1001        0 4711 1 0000000000000000 20 4 30 10 -1
   1: 0100007F:1648 0100007F:C624 01 00000000:00000000 00:00000000 00000000  1000        0 4712 1 0000000000000000 20 4 30 10 -1
`;

describe('which local user opened a loopback connection', () => {
  it.runIf(endianness() === 'LE')('writes an address and port as the kernel prints them', () => {
    expect(socketKey('127.0.0.1', 0xc624)).toBe('0100007F:C624');
    expect(socketKey('::ffff:127.0.0.1', 80)).toBe('0100007F:0050');
    expect(socketKey('10.1.2.3', 65535)).toBe('0302010A:FFFF');
  });

  it('cannot write what is not an IPv4 address', () => {
    for (const address of ['::1', '127.0.0', '127.0.0.256', 'localhost', '']) expect(socketKey(address, 1)).toBeUndefined();
  });

  it('finds the owner of the end that matches both addresses, not of its peer', () => {
    expect(ownerIn(TABLE, '0100007F:C624', '0100007F:1648')).toBe(1001);
    expect(ownerIn(TABLE, '0100007F:1648', '0100007F:C624')).toBe(1000);
    expect(ownerIn(TABLE, '0100007F:C625', '0100007F:1648')).toBeUndefined();
    expect(ownerIn('', '0100007F:C624', '0100007F:1648')).toBeUndefined();
  });

  it('counts neither this process’s user nor the superuser as another user', () => {
    expect(isAnotherUser(1001, 1000)).toBe(true);
    expect(isAnotherUser(1000, 1000)).toBe(false);
    expect(isAnotherUser(0, 1000)).toBe(false);
  });

  it('says nothing when the kernel’s table cannot be read', async () => {
    const connection = {remoteAddress: '127.0.0.1', remotePort: 50000, localAddress: '127.0.0.1', localPort: 5000};
    expect(await connectionOwnerUid(connection, '/nonexistent/tcp')).toBeUndefined();
    expect(await connectionOwnerUid({}, '/proc/net/tcp')).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')('names this process’s own user for a real connection from it', async () => {
    const server = createServer();
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = connect((server.address() as {port: number}).port, '127.0.0.1');
    try {
      expect(await connectionOwnerUid(await accepted)).toBe(process.getuid!());
    } finally {
      client.destroy();
      server.close();
    }
  });
});
