import {readFile} from 'node:fs/promises';
import {endianness} from 'node:os';

/**
 * Which user of this machine opened a connection to a loopback server. Every local user can
 * connect to 127.0.0.1, and the sign-in link hub gives the browser is a command-line argument
 * anyone can read in /proc; Linux names the owner of every TCP socket in /proc/net/tcp and
 * /proc/net/tcp6, so the sign-in server can serve its own user only.
 *
 * Where the kernel keeps such tables, a client end that is not listed there as an established
 * connection is not given the benefit of the doubt: a socket opened through IPv6 to
 * ::ffff:127.0.0.1 is listed only in tcp6, and one closed or reset right after its request is
 * listed as root's (TIME_WAIT) or not at all, which would otherwise let anyone who reads /proc
 * through. Only where the system has no such tables (macOS, Windows, no /proc) is the owner
 * "untold", and nothing is refused on that account.
 */

export interface LoopbackConnection {
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
}

export type ConnectionOwner =
  /** The kernel lists the client end as an established connection of this user. */
  | {kind: 'user'; uid: number}
  /** The kernel keeps the tables, but the client end is not an established connection there. */
  | {kind: 'unlisted'}
  /** This system does not say who owns a connection. */
  | {kind: 'untold'};

export const KERNEL_TABLES = {ipv4: '/proc/net/tcp', ipv6: '/proc/net/tcp6'};

const ESTABLISHED = '01';

/** Who owns the client's end of this connection to a server on an IPv4 loopback address. */
export async function connectionOwner(connection: LoopbackConnection, tables = KERNEL_TABLES): Promise<ConnectionOwner> {
  const [ipv4, ipv6] = await Promise.all([readTable(tables.ipv4), readTable(tables.ipv6)]);
  // Every Linux with /proc has the IPv4 table; the IPv6 one is missing only where IPv6 is off.
  if (ipv4 === undefined) return {kind: 'untold'};
  for (const [table, key] of [
    [ipv4, socketKey],
    [ipv6 ?? '', mappedSocketKey],
  ] as const) {
    const uid = establishedOwner(table, connection, key);
    if (uid !== undefined) return {kind: 'user', uid};
  }
  return {kind: 'unlisted'};
}

function establishedOwner(
  table: string,
  {remoteAddress, remotePort, localAddress, localPort}: LoopbackConnection,
  key: (address: string, port: number) => string | undefined,
): number | undefined {
  if (!remoteAddress || !localAddress || remotePort === undefined || localPort === undefined) return undefined;
  const clientEnd = key(remoteAddress, remotePort);
  const serverEnd = key(localAddress, localPort);
  if (!clientEnd || !serverEnd) return undefined;
  return ownerIn(table, clientEnd, serverEnd);
}

/**
 * The owner of the established socket whose own end is `local` and whose peer is `remote`, in a
 * /proc/net/tcp or tcp6 text.
 */
export function ownerIn(table: string, local: string, remote: string): number | undefined {
  for (const line of table.split('\n').slice(1)) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid …
    const fields = line.trim().split(/\s+/);
    if (fields[1] === local && fields[2] === remote && fields[3] === ESTABLISHED && /^\d+$/.test(fields[7] ?? '')) {
      return Number(fields[7]);
    }
  }
  return undefined;
}

/** An IPv4 address and port as /proc/net/tcp prints them. */
export function socketKey(address: string, port: number): string | undefined {
  const bytes = ipv4Bytes(address);
  return bytes && `${kernelWords(bytes)}:${hex(port, 4)}`;
}

/** The same IPv4 address and port as /proc/net/tcp6 prints them for an IPv6 socket: ::ffff:a.b.c.d. */
export function mappedSocketKey(address: string, port: number): string | undefined {
  const bytes = ipv4Bytes(address);
  return bytes && `${kernelWords(Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), bytes]))}:${hex(port, 4)}`;
}

/**
 * True when the owner is known to be another user than this process's. The superuser is not
 * "another user": it can read hub's memory and keychain anyway.
 */
export function isAnotherUser(uid: number, ownUid = process.getuid?.()): boolean {
  return ownUid !== undefined && uid !== ownUid && uid !== 0;
}

function ipv4Bytes(address: string): Buffer | undefined {
  const octets = address
    .replace(/^::ffff:/i, '')
    .split('.')
    .map(Number);
  if (octets.length !== 4 || octets.some((octet) => !Number.isInteger(octet) || octet < 0 || octet > 255)) return undefined;
  return Buffer.from(octets);
}

/** The kernel prints an address as 32-bit words, each the native-order hex of four network-order bytes. */
function kernelWords(bytes: Buffer): string {
  let text = '';
  for (let offset = 0; offset < bytes.length; offset += 4) {
    text += hex(endianness() === 'LE' ? bytes.readUInt32LE(offset) : bytes.readUInt32BE(offset), 8);
  }
  return text;
}

function hex(value: number, width: number): string {
  return value.toString(16).toUpperCase().padStart(width, '0');
}

function readTable(path: string): Promise<string | undefined> {
  return readFile(path, 'latin1').catch(() => undefined);
}
