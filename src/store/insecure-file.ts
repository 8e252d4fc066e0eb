import {readJsonFile, updateJsonFile} from '@hub/common/atomic-json-file';
import {object, recordOf, type ShapeOf} from '@hub/common/json-shape';
import {entryName, sessionShape, type Session, type TokenStore} from './session.js';

const fileShape = object({sessions: recordOf(sessionShape)});
type SessionFile = ShapeOf<typeof fileShape>;
const emptyFile = (): SessionFile => ({sessions: {}});

/**
 * Tokens in a 0600 JSON file, for machines without a keychain, and only when the user asked for
 * it at login (`--insecure-storage`). Reading it says so once per command.
 */
export class InsecureFileStore implements TokenStore {
  readonly kind = 'insecure-file';
  readonly description: string;
  private warned = false;

  constructor(
    private readonly path: string,
    private readonly warn: (message: string) => void,
  ) {
    this.description = `plain file ${path}`;
  }

  async probe(): Promise<void> {}

  async read(registry: string, account: string | undefined): Promise<Session | undefined> {
    const file = await readJsonFile(this.path, fileShape);
    const session = file?.sessions[entryName(registry, account)];
    if (session) this.warnOnce();
    return session;
  }

  async write(session: Session): Promise<void> {
    this.warnOnce();
    await updateJsonFile(this.path, fileShape, emptyFile, (current) => ({
      sessions: {...current.sessions, [entryName(session.registry, session.account)]: session},
    }));
  }

  async remove(registry: string, account: string | undefined): Promise<boolean> {
    let removed = false;
    await updateJsonFile(this.path, fileShape, emptyFile, (current) => {
      const {[entryName(registry, account)]: gone, ...rest} = current.sessions;
      removed = gone !== undefined;
      return {sessions: rest};
    });
    return removed;
  }

  private warnOnce(): void {
    if (this.warned) return;
    this.warned = true;
    this.warn(`Warning: tokens are stored unencrypted in ${this.path} (chosen with --insecure-storage).`);
  }
}
