import {entryName, type Session, type TokenStore} from './session.js';

/** A store that lives as long as the process: for tests of the flows, never for users. */
export class MemoryStore implements TokenStore {
  readonly kind = 'memory';
  readonly description = 'memory';
  readonly sessions = new Map<string, Session>();

  async probe(): Promise<void> {}

  async read(registry: string, account: string | undefined): Promise<Session | undefined> {
    const session = this.sessions.get(entryName(registry, account));
    return session && {...session};
  }

  async write(session: Session): Promise<void> {
    this.sessions.set(entryName(session.registry, session.account), {...session});
  }

  async remove(registry: string, account: string | undefined): Promise<boolean> {
    return this.sessions.delete(entryName(registry, account));
  }
}
