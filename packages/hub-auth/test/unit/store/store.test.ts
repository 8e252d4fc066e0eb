import {mkdirSync, symlinkSync, writeFileSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {accountBindings} from '../../../src/accounts/bindings.js';
import {ConfigError} from '../../../src/config.js';
import {migrate} from '../../../src/store/migrations.js';
import {openStore, type Store} from '../../../src/store/open-store.js';
import {StoreUnavailableError} from '../../../src/store/sql.js';
import {BACKENDS, emptied, recordingLogger, server, storeConfig, temporaryDir} from '../../stores.js';

/** Every migration hub-auth has: a new database gets them all, once. */
const ALL_VERSIONS = [1, 2, 3, 4, 5, 6];

const first = {issuer: 'https://id.example', subject: 'sub-first'};
const second = {issuer: 'https://id.example', subject: 'sub-second'};
const otherIssuer = {issuer: 'https://other.example', subject: 'sub-first'};

describe.each(BACKENDS)('the store on $kind PostgreSQL', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await backend.fresh();
  });
  afterAll(async () => store?.close());

  it('has the schema once, however many starts ask at once', async () => {
    const versions = await store.query<{version: number}>('SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.map((row) => row.version)).toEqual(ALL_VERSIONS);
    // A second and third start meanwhile (another instance, a restart) apply nothing.
    expect(await Promise.all([migrate(store), migrate(store)])).toEqual([[], []]);
  });

  it('gives a name to the first holder that uses it, and never to another subject or issuer', async () => {
    const bindings = accountBindings(await emptied(store), {recheckMs: 0});
    expect(await bindings.claim('alice', first)).toBe(true);
    expect(await bindings.claim('alice', second)).toBe(false);
    expect(await bindings.claim('alice', otherIssuer)).toBe(false);
    expect(await bindings.claim('alice', first)).toBe(true);
    expect(await store.query('SELECT account, issuer, subject FROM account_bindings')).toEqual([{account: 'alice', ...first}]);
  });

  it('lets only one of holders racing for a free name have it', async () => {
    const bindings = accountBindings(await emptied(store), {recheckMs: 0});
    const answers = await Promise.all([first, second, otherIssuer].map((holder) => bindings.claim('carol', holder)));
    expect(answers.filter(Boolean)).toHaveLength(1);
  });

  it('takes names as data, whatever they hold', async () => {
    const bindings = accountBindings(await emptied(store), {recheckMs: 0});
    for (const name of ["o'brien", 'constructor', '__proto__', 'a"; DROP TABLE account_bindings; --'])
      expect(await bindings.claim(name, first)).toBe(true);
    expect(await store.query('SELECT count(*)::int AS n FROM account_bindings')).toEqual([{n: 4}]);
  });

  it('trusts a holder it read for recheckMs, but reads again before refusing: a name released meanwhile goes to the next claimant at once', async () => {
    let nowMs = 0;
    const bindings = accountBindings(await emptied(store), {recheckMs: 1000, nowMs: () => nowMs});
    expect(await bindings.claim('frank', first)).toBe(true);
    // Released at another instance (hub-auth accounts release), which this one cannot tell.
    await store.query('DELETE FROM account_bindings WHERE account = $1', ['frank']);
    nowMs += 999;
    expect(await bindings.claim('frank', first)).toBe(true);
    expect(await bindings.claim('frank', second)).toBe(true);
    expect(await bindings.claim('frank', first)).toBe(false);
  });

  describe('the bindings file of earlier versions', () => {
    const file = (accounts: Record<string, unknown>) => {
      const path = join(temporaryDir('bindings'), 'account-bindings.json');
      writeFileSync(path, JSON.stringify({accounts}));
      return path;
    };
    const old = {erin: {...first, since: '2026-01-02T03:04:05.000Z'}, gina: {...second, since: '2026-02-03T04:05:06.000Z'}};

    it('is imported once, before the first claim, and left as it was', async () => {
      const path = file(old);
      const before = readFileSync(path, 'utf8');
      const imported: unknown[] = [];
      const bindings = accountBindings(await emptied(store), {importFile: path, onImported: (done) => imported.push(done)});
      expect(await bindings.claim('erin', second)).toBe(false);
      expect(await bindings.claim('gina', second)).toBe(true);
      expect(imported).toEqual([{file: path, entries: 2}]);
      expect(await store.query('SELECT account, since FROM account_bindings ORDER BY account')).toEqual([
        {account: 'erin', since: new Date(old.erin.since)},
        {account: 'gina', since: new Date(old.gina.since)},
      ]);
      expect(readFileSync(path, 'utf8')).toBe(before);
      // Every name released later (the table empty again), a restart does not bring the file back.
      await store.query('DELETE FROM account_bindings');
      const again = accountBindings(store, {importFile: path, onImported: (done) => imported.push(done)});
      await again.ready();
      expect(imported).toHaveLength(1);
      expect(await again.claim('erin', second)).toBe(true);
    });

    it('is not imported into a store that already holds bindings, nor when absent', async () => {
      await accountBindings(await emptied(store)).claim('hal', first);
      const imported: unknown[] = [];
      await accountBindings(store, {importFile: file(old), onImported: (done) => imported.push(done)}).ready();
      await accountBindings(store, {
        importFile: join(temporaryDir('none'), 'absent.json'),
        onImported: (done) => imported.push(done),
      }).ready();
      expect(imported).toEqual([]);
      expect(await store.query('SELECT account FROM account_bindings')).toEqual([{account: 'hal'}]);
    });

    it('that is broken stops the claims with a message naming it, until it is fixed', async () => {
      const path = join(temporaryDir('bindings'), 'account-bindings.json');
      writeFileSync(path, '{"accounts": ');
      const bindings = accountBindings(await emptied(store), {importFile: path});
      await expect(bindings.claim('ivy', first)).rejects.toThrow(`accounts.bindingsFile: cannot import ${path}`);
      writeFileSync(path, JSON.stringify({accounts: {}}));
      expect(await bindings.claim('ivy', first)).toBe(true);
    });
  });
});

describe('the embedded store', () => {
  it('keeps its state across restarts, in a private directory', async () => {
    const dataDir = temporaryDir('restart');
    const config = storeConfig({dataDir});
    const one = await openStore(config, recordingLogger());
    expect(await accountBindings(one).claim('jane', first)).toBe(true);
    await one.close();
    const two = await openStore(config, recordingLogger());
    expect(await accountBindings(two).claim('jane', second)).toBe(false);
    await two.close();
  });

  it('refuses a data directory that is a symbolic link, to a directory or to nothing, and creates neither', async () => {
    const dir = temporaryDir('links');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    for (const target of [elsewhere, join(dir, 'nowhere')]) {
      const link = join(dir, `link-${target.length}`);
      symlinkSync(target, link);
      const opened = openStore(storeConfig({dataDir: link}), recordingLogger());
      await expect(opened).rejects.toThrow(ConfigError);
      await expect(opened).rejects.toThrow(
        `store.dataDir: ${link} is a symbolic link (to ${target}): hub-auth does not write its state through one`,
      );
    }
  });

  it('with store.followSymlink, says where the link leads and keeps its state there; a link to nothing is refused even then', async () => {
    const dir = temporaryDir('followed');
    const target = join(dir, 'state');
    mkdirSync(target);
    symlinkSync(target, join(dir, 'link'));
    const logger = recordingLogger();
    const store = await openStore(storeConfig({dataDir: join(dir, 'link'), followSymlink: true}), logger);
    expect(logger.lines.find((line) => line.msg.includes('store.dataDir is a symbolic link'))).toMatchObject({level: 'warn', target});
    await store.close();
    expect(readFileSync(join(target, 'PG_VERSION'), 'utf8')).toMatch(/^\d+/);
    symlinkSync(join(dir, 'nothing'), join(dir, 'dangling'));
    await expect(openStore(storeConfig({dataDir: join(dir, 'dangling'), followSymlink: true}), recordingLogger())).rejects.toThrow(
      'which does not exist',
    );
  });
});

describe.runIf(BACKENDS.includes(server))('the store on a PostgreSQL server that goes away', () => {
  it('starts while the server is down: not ready, says why once, and connects when it comes', async () => {
    const postgres = await server.server!();
    const url = await postgres.database(`down_at_start_${process.pid}`);
    await postgres.stop();
    try {
      const logger = recordingLogger();
      const store = await openStore(storeConfig({url, statementTimeoutSeconds: 1}), logger);
      await expect(store.ready()).rejects.toThrow(StoreUnavailableError);
      await expect(store.ready()).rejects.toThrow(`PostgreSQL at 127.0.0.1:${postgres.port}/down_at_start_${process.pid} cannot answer`);
      expect(logger.lines.filter((line) => line.msg.startsWith('cannot reach the store'))).toHaveLength(1);
      await postgres.start();
      await store.ready();
      expect(logger.lines.at(-1)).toMatchObject({msg: 'store ready', wasDown: true, migrations: ALL_VERSIONS});
      expect(JSON.stringify(logger.lines)).not.toContain(postgres.password);
      await store.close();
    } finally {
      await postgres.start();
    }
  });

  it('stopped and started again under claims: they fail (never a wrong allow), then succeed, and no binding is lost', async () => {
    const postgres = await server.server!();
    const logger = recordingLogger();
    const store = await server.fresh(logger, {statementTimeoutSeconds: 1});
    const bindings = accountBindings(store, {recheckMs: 0});
    const names = Array.from({length: 20}, (_, i) => `user${i}`);
    for (const name of names.slice(0, 10)) expect(await bindings.claim(name, first)).toBe(true);
    await postgres.stop();
    try {
      const during = await Promise.allSettled(names.map((name) => bindings.claim(name, second)));
      expect(during.every((answer) => answer.status === 'rejected' && answer.reason instanceof StoreUnavailableError)).toBe(true);
      expect(logger.lines.filter((line) => line.msg.startsWith('the store cannot answer'))).toHaveLength(1);
    } finally {
      await postgres.start();
    }
    for (const name of names.slice(0, 10)) expect(await bindings.claim(name, second)).toBe(false);
    for (const name of names.slice(10)) expect(await bindings.claim(name, second)).toBe(true);
    expect(logger.lines.filter((line) => line.msg === 'the store answers again')).toHaveLength(1);
    expect(JSON.stringify(logger.lines)).not.toContain(postgres.password);
    await store.close();
  });

  it('migrates a new database once when several instances start at once', async () => {
    const postgres = await server.server!();
    const url = await postgres.database(`together_${process.pid}`);
    const stores = await Promise.all(Array.from({length: 5}, () => openStore(storeConfig({url}), recordingLogger())));
    await Promise.all(stores.map((store) => store.ready()));
    expect(await stores[0]!.query('SELECT version FROM schema_migrations ORDER BY version')).toEqual(
      ALL_VERSIONS.map((version) => ({version})),
    );
    await Promise.all(stores.map((store) => store.close()));
  });
});
