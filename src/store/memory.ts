import type {Session, TokenStore} from './session.js';

/** A store that lives as long as the process: for tests of the flows, never for users. */
export class MemoryStore implements TokenStore {
  readonly kind = 'memory';
  readonly description = 'memory';
  readonly sessions = new Map<string, Session>();

  async probe(): Promise<void> {}

  async read(registry: string): Promise<Session | undefined> {
    const session = this.sessions.get(registry);
    return session && {...session};
  }

  async write(session: Session): Promise<void> {
    this.sessions.set(session.registry, {...session});
  }

  async remove(registry: string): Promise<boolean> {
    return this.sessions.delete(registry);
  }
}
