import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {connect, createServer, type Socket} from 'node:net';
import {endianness, tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {connectionOwner, isAnotherUser, mappedSocketKey, ownerIn, socketKey} from '../../../src/auth/local-peer.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const row = (local: string, remote: string, state: string, uid: number) =>
  `   0: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000  ${uid}        0 4711 1 0000000000000000 20 4 30 10 -1\n`;

/** A client's end (uid 1001) and the server's end (uid 1000) of one connection, and a closed one left as root's TIME_WAIT. */
const TABLE =
  HEADER +
  row('0100007F:C624', '0100007F:1648', '01', 1001) +
  row('0100007F:1648', '0100007F:C624', '01', 1000) +
  row('0100007F:C625', '0100007F:1648', '06', 0);

/** The same connection's client end as an IPv6 socket to ::ffff:127.0.0.1 lists it. */
const MAPPED = '0000000000000000FFFF00000100007F';
const TABLE6 = HEADER + row(`${MAPPED}:C626`, `${MAPPED}:1648`, '01', 1002);

const connection = (remotePort: number) => ({remoteAddress: '127.0.0.1', remotePort, localAddress: '127.0.0.1', localPort: 0x1648});

describe('which local user opened a loopback connection', () => {
  let dir: string;
  let tables: {ipv4: string; ipv6: string};
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-peer-'));
    tables = {ipv4: join(dir, 'tcp'), ipv6: join(dir, 'tcp6')};
    await writeFile(tables.ipv4, TABLE);
    await writeFile(tables.ipv6, TABLE6);
  });
  afterAll(() => rm(dir, {recursive: true, force: true}));

  it.runIf(endianness() === 'LE')('writes an address and port as the kernel prints them, in both tables', () => {
    expect(socketKey('127.0.0.1', 0xc624)).toBe('0100007F:C624');
    expect(socketKey('::ffff:127.0.0.1', 80)).toBe('0100007F:0050');
    expect(socketKey('10.1.2.3', 65535)).toBe('0302010A:FFFF');
    expect(mappedSocketKey('127.0.0.1', 0xc626)).toBe(`${MAPPED}:C626`);
  });

  it('cannot write what is not an IPv4 address', () => {
    for (const address of ['::1', '127.0.0', '127.0.0.256', 'localhost', '']) {
      expect(socketKey(address, 1)).toBeUndefined();
      expect(mappedSocketKey(address, 1)).toBeUndefined();
    }
  });

  it('finds the owner of the established end that matches both addresses, not of its peer nor of a closed one', () => {
    expect(ownerIn(TABLE, '0100007F:C624', '0100007F:1648')).toBe(1001);
    expect(ownerIn(TABLE, '0100007F:1648', '0100007F:C624')).toBe(1000);
    expect(ownerIn(TABLE, '0100007F:C625', '0100007F:1648')).toBeUndefined();
    expect(ownerIn(TABLE, '0100007F:C627', '0100007F:1648')).toBeUndefined();
    expect(ownerIn('', '0100007F:C624', '0100007F:1648')).toBeUndefined();
  });

  it.runIf(endianness() === 'LE')('looks in the IPv4 and the IPv6 table, and fails closed on a client end listed in neither', async () => {
    expect(await connectionOwner(connection(0xc624), tables)).toEqual({kind: 'user', uid: 1001});
    expect(await connectionOwner(connection(0xc626), tables)).toEqual({kind: 'user', uid: 1002});
    expect(await connectionOwner(connection(0xc625), tables)).toEqual({kind: 'unlisted'});
    expect(await connectionOwner(connection(0xc627), tables)).toEqual({kind: 'unlisted'});
    expect(await connectionOwner({}, tables)).toEqual({kind: 'unlisted'});
    expect(await connectionOwner(connection(0xc624), {...tables, ipv6: join(dir, 'none')})).toEqual({kind: 'user', uid: 1001});
  });

  it('says "untold" only where the system has no table to read', async () => {
    expect(await connectionOwner(connection(0xc624), {ipv4: join(dir, 'none'), ipv6: tables.ipv6})).toEqual({kind: 'untold'});
  });

  it('counts neither this process’s user nor the superuser as another user', () => {
    expect(isAnotherUser(1001, 1000)).toBe(true);
    expect(isAnotherUser(1000, 1000)).toBe(false);
    expect(isAnotherUser(0, 1000)).toBe(false);
  });

  describe.runIf(process.platform === 'linux')('real connections from this process', () => {
    /** A connection to a fresh server from `host`, what the server saw of it, and both ends. */
    async function connection(host: string): Promise<{client: Socket; accepted: Socket; addresses: ReturnType<typeof addressesOf>}> {
      const server = createServer();
      const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const client = connect((server.address() as {port: number}).port, host);
      client.on('error', () => {});
      const socket = await accepted;
      socket.on('error', () => {});
      server.close();
      await new Promise((resolve) => client.once('connect', resolve));
      return {client, accepted: socket, addresses: addressesOf(socket)};
    }
    const addressesOf = ({remoteAddress, remotePort, localAddress, localPort}: Socket) => ({
      remoteAddress,
      remotePort,
      localAddress,
      localPort,
    });
    const own = {kind: 'user', uid: process.getuid!()};

    it('names this process’s own user for an IPv4 connection and for one through ::ffff:127.0.0.1', async () => {
      for (const host of ['127.0.0.1', '::ffff:127.0.0.1']) {
        const {client, accepted, addresses} = await connection(host);
        try {
          expect(await connectionOwner(addresses), host).toEqual(own);
        } finally {
          client.destroy();
          accepted.destroy();
        }
      }
    });

    it('lists no owner once the client closed or reset its end, whichever table it is in', async () => {
      for (const host of ['127.0.0.1', '::ffff:127.0.0.1']) {
        for (const end of ['close', 'reset'] as const) {
          const {client, accepted, addresses} = await connection(host);
          const gone = new Promise((resolve) => client.once('close', resolve));
          if (end === 'close') client.end();
          else client.resetAndDestroy();
          await gone;
          try {
            expect(await connectionOwner(addresses), `${host} ${end}`).toEqual({kind: 'unlisted'});
          } finally {
            accepted.destroy();
          }
        }
      }
    });
  });
});
