import {readFile} from 'node:fs/promises';
import {endianness} from 'node:os';

/**
 * Which user of this machine opened a connection to a loopback server. Every local user can
 * connect to 127.0.0.1, and the sign-in link hub gives the browser is a command-line argument
 * anyone can read in /proc; Linux names the owner of every TCP socket in /proc/net/tcp, so the
 * sign-in server can serve its own user only. Where the kernel does not say (another system, a
 * /proc that hides it), the answer is "unknown" and nothing is refused on that account.
 */

export interface LoopbackConnection {
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
}

const IPV4_TABLE = '/proc/net/tcp';

/** The uid owning the client's end of this IPv4 connection, or undefined when it cannot be told. */
export async function connectionOwnerUid(connection: LoopbackConnection, table = IPV4_TABLE): Promise<number | undefined> {
  const {remoteAddress, remotePort, localAddress, localPort} = connection;
  if (!remoteAddress || !localAddress || remotePort === undefined || localPort === undefined) return undefined;
  const clientEnd = socketKey(remoteAddress, remotePort);
  const serverEnd = socketKey(localAddress, localPort);
  if (!clientEnd || !serverEnd) return undefined;
  const text = await readFile(table, 'latin1').catch(() => '');
  return ownerIn(text, clientEnd, serverEnd);
}

/** The owner of the socket whose own end is `local` and whose peer is `remote`, in a /proc/net/tcp text. */
export function ownerIn(table: string, local: string, remote: string): number | undefined {
  for (const line of table.split('\n').slice(1)) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid …
    const fields = line.trim().split(/\s+/);
    if (fields[1] === local && fields[2] === remote && fields[7] !== undefined && /^\d+$/.test(fields[7])) return Number(fields[7]);
  }
  return undefined;
}

/**
 * An address and port as the kernel prints them: the IPv4 address as the native-order hex of its
 * network-order bytes, the port in hex.
 */
export function socketKey(address: string, port: number): string | undefined {
  const octets = address
    .replace(/^::ffff:/i, '')
    .split('.')
    .map(Number);
  if (octets.length !== 4 || octets.some((octet) => !Number.isInteger(octet) || octet < 0 || octet > 255)) return undefined;
  const bytes = Buffer.from(octets);
  const value = endianness() === 'LE' ? bytes.readUInt32LE(0) : bytes.readUInt32BE(0);
  return `${hex(value, 8)}:${hex(port, 4)}`;
}

/**
 * True when the owner is known to be another user than this process's. The superuser is not
 * "another user": it can read hub's memory and keychain anyway.
 */
export function isAnotherUser(uid: number, ownUid = process.getuid?.()): boolean {
  return ownUid !== undefined && uid !== ownUid && uid !== 0;
}

function hex(value: number, width: number): string {
  return value.toString(16).toUpperCase().padStart(width, '0');
}
