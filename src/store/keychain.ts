import {createRequire} from 'node:module';
import type {AsyncEntry as AsyncEntryType} from '@napi-rs/keyring';
import {HubError} from '@hub/common/errors';
import {isRecord, isString, matches} from '@hub/common/json-shape';
import {entryName, sessionShape, type Session, type TokenStore} from './session.js';

// Loaded with require: importing this CommonJS addon through the ESM loader costs ~25 ms more,
// paid by docker-credential-hub on every docker operation.
const {AsyncEntry} = createRequire(import.meta.url)('@napi-rs/keyring') as {AsyncEntry: typeof AsyncEntryType};
type AsyncEntry = AsyncEntryType;

const SERVICE = 'hub';
/**
 * Windows caps a credential at 2,560 bytes and stores the secret as UTF-16, so there a session
 * (two JWTs can pass 4 KB) is written in parts of at most this many UTF-16 code units.
 */
export const WINDOWS_PART_LENGTH = 1000;
export const DEFAULT_KEYCHAIN_TIMEOUT_MS = 5000;

/** The longest secret one entry takes: the macOS Keychain and the Secret Service take a session whole. */
export function entryLimit(platform: NodeJS.Platform = process.platform): number {
  return platform === 'win32' ? WINDOWS_PART_LENGTH : Number.POSITIVE_INFINITY;
}

/**
 * The layout in the keychain, for one account of a registry, whose entry is named E
 * ("<account>@<registry>", entryName; "<registry>" as hub wrote it before several accounts):
 *   account "E" → the session's JSON, when it fits one entry; otherwise
 *   account "E" → {"v":1,"generation":"…","parts":N}, the head, and
 *   account "E#<generation>.i" → part i of the session's JSON.
 * A session in one entry costs one keychain call to read (docker-credential-hub reads it on every
 * docker operation) and is replaced in one write. A session in parts is written parts first and
 * head last, so a crash or a concurrent reader sees either the old session or the new one.
 */
interface Head {
  v: 1;
  generation: string;
  parts: number;
}

type Stored = {session: Session} | {head: Head};

export class KeychainStore implements TokenStore {
  readonly kind = 'keychain';
  readonly description = keychainName();

  constructor(
    private readonly timeoutMs = DEFAULT_KEYCHAIN_TIMEOUT_MS,
    private readonly maxEntryLength = entryLimit(),
  ) {}

  async probe(registry: string): Promise<void> {
    await this.call(registry, (entry, signal) => entry.getPassword(signal));
  }

  async read(registry: string, account: string | undefined): Promise<Session | undefined> {
    const name = entryName(registry, account);
    const stored = await this.readEntry(name);
    if (!stored || 'session' in stored) return stored?.session;
    const {head} = stored;
    const parts: string[] = [];
    for (let i = 0; i < head.parts; i++) {
      const part = await this.call(partAccount(name, head.generation, i), (entry, signal) => entry.getPassword(signal));
      if (part === null) throw damaged(name, `part ${i + 1} of ${head.parts} is missing`);
      parts.push(part);
    }
    let data: unknown;
    try {
      data = JSON.parse(parts.join(''));
    } catch {
      throw damaged(name, 'its parts do not join into a session');
    }
    if (!matches(sessionShape, data)) throw damaged(name, 'it is not a session hub understands');
    return data;
  }

  async write(session: Session): Promise<void> {
    const name = entryName(session.registry, session.account);
    const previous = await this.readEntry(name).catch(() => undefined);
    const text = JSON.stringify(session);
    if (text.length <= this.maxEntryLength) {
      await this.call(name, (entry, signal) => entry.setPassword(text, signal));
    } else {
      const parts = splitIntoParts(text, this.maxEntryLength);
      const head: Head = {v: 1, generation: newGeneration(), parts: parts.length};
      for (const [i, part] of parts.entries()) {
        await this.call(partAccount(name, head.generation, i), (entry, signal) => entry.setPassword(part, signal));
      }
      await this.call(name, (entry, signal) => entry.setPassword(JSON.stringify(head), signal));
    }
    if (previous && 'head' in previous) await this.removeParts(name, previous.head);
  }

  async remove(registry: string, account: string | undefined): Promise<boolean> {
    const name = entryName(registry, account);
    const stored = await this.readEntry(name).catch(() => undefined);
    if (stored && 'head' in stored) await this.removeParts(name, stored.head);
    return this.call(name, (entry, signal) => entry.deleteCredential(signal));
  }

  /** The entry named `name` (entryName), whole or as the head of its parts. */
  private async readEntry(name: string): Promise<Stored | undefined> {
    const text = await this.call(name, (entry, signal) => entry.getPassword(signal));
    if (text === null) return undefined;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      // falls through: an entry under our name that we did not write
    }
    if (matches(sessionShape, data)) return {session: data};
    if (looksLikeHead(data)) return {head: data};
    throw damaged(name, 'its entry was not written by this version of hub');
  }

  private async removeParts(name: string, head: Head): Promise<void> {
    for (let i = 0; i < head.parts; i++) {
      await this.call(partAccount(name, head.generation, i), (entry, signal) => entry.deleteCredential(signal));
    }
  }

  /** One keychain call, bounded in time: a locked or absent keychain must not hang the CLI. */
  private async call<T>(account: string, run: (entry: AsyncEntry, signal: AbortSignal) => Promise<T>): Promise<T> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      // Pinned to the Secret Service on Linux: the default would fall back, silently, to the
      // kernel keyring, which forgets everything at logout.
      const entry = new AsyncEntry(SERVICE, account, {linux: {store: 'secret-service'}});
      return await run(entry, signal);
    } catch (error) {
      throw unavailable(error, signal.aborted ? `it did not answer within ${this.timeoutMs / 1000}s` : undefined);
    }
  }
}

/** Cuts `text` into parts of at most `length` UTF-16 code units without splitting a surrogate pair. */
export function splitIntoParts(text: string, length: number): string[] {
  const parts: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + length, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    parts.push(text.slice(start, end));
    start = end;
  }
  return parts.length > 0 ? parts : [''];
}

function looksLikeHead(value: unknown): value is Head {
  return isRecord(value) && value.v === 1 && isString(value.generation) && Number.isInteger(value.parts) && (value.parts as number) > 0;
}

/** Names a set of parts; randomUUID through the global, so that reads never load node:crypto. */
function newGeneration(): string {
  return crypto.randomUUID().slice(0, 8);
}

function partAccount(name: string, generation: string, index: number): string {
  return `${name}#${generation}.${index}`;
}

export function keychainName(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'macOS Keychain';
  if (platform === 'win32') return 'Windows Credential Manager';
  return 'Secret Service';
}

function unavailable(error: unknown, why?: string): HubError {
  const detail = why ?? describeKeyringError(error);
  return new HubError(`The ${keychainName()} keychain cannot be used: ${detail}.`, {
    code: 'keychain_unavailable',
    cause: error,
    suggestions:
      process.platform === 'linux'
        ? ['Start and unlock a Secret Service provider (GNOME Keyring, KDE Wallet, KeePassXC) in this session.']
        : ['Unlock the keychain and try again.'],
  });
}

function describeKeyringError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/DBUS_SESSION_BUS_ADDRESS|autolaunch|Failed to connect to socket|No such file or directory|Connection refused/i.test(message)) {
    return 'there is no D-Bus session bus, so no Secret Service to talk to';
  }
  if (/Did not receive a reply|timed? ?out/i.test(message)) return 'it did not answer (is the keyring daemon stuck?)';
  if (/prompt was dismissed|\bis locked\b/i.test(message)) return 'it is locked and could not be unlocked';
  if (/ServiceUnknown|was not provided by any .service files|org\.freedesktop\.secrets/i.test(message)) {
    return 'no Secret Service provider is running on the session bus';
  }
  return message.replace(/\s+/g, ' ').trim();
}

/** `name` is the entry's (entryName): the account and the registry, or the registry alone. */
function damaged(name: string, why: string): HubError {
  const at = name.lastIndexOf('@');
  const registry = name.slice(at + 1);
  const account = at < 0 ? '' : ` --account ${name.slice(0, at)}`;
  return new HubError(`The keychain entry for ${name} is damaged: ${why}.`, {
    code: 'keychain_damaged',
    suggestions: [`Run \`hub logout ${registry}${account}\` and then \`hub login ${registry}\`.`],
  });
}
