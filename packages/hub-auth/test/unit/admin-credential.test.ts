import {chmodSync, existsSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {adminCredentialFile, adminCredentialOf, establishAdminCredential} from '../../src/admin-credential.js';
import {configWith as withSections, temporaryDir} from '../stores.js';

const configWith = (store: Record<string, unknown>, admin: Record<string, unknown> = {}) => withSections({store, admin});

describe('the admin credential', () => {
  it('is generated at the first start beside the embedded store (0600), kept by the next, and read by the commands', async () => {
    const dir = temporaryDir('admin');
    const config = configWith({dataDir: join(dir, 'store')});
    const file = join(dir, 'admin-credential');
    expect(adminCredentialFile(config)).toBe(file);
    const first = await establishAdminCredential(config);
    expect(first.file).toBe(file);
    expect(first.credential).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await establishAdminCredential(config)).credential).toBe(first.credential);
    expect(await adminCredentialOf(config)).toBe(first.credential);
  });

  it('is one for instances starting at once on one file', async () => {
    const dir = temporaryDir('admin');
    const config = configWith({url: 'postgres://x@localhost/db'}, {credentialFile: join(dir, 'credential')});
    const started = await Promise.all(Array.from({length: 8}, () => establishAdminCredential(config)));
    expect(new Set(started.map((one) => one.credential)).size).toBe(1);
  });

  it('with a PostgreSQL server, goes in the state directory by default', () => {
    expect(adminCredentialFile(configWith({url: 'postgres://x@localhost/db'}))).toBe('/var/lib/hub-auth/admin-credential');
  });

  it('is never written through a symbolic link, nor read through one', async () => {
    const dir = temporaryDir('admin');
    const elsewhere = join(dir, 'elsewhere');
    writeFileSync(elsewhere, 'the attacker reads this file\n', {mode: 0o600});
    symlinkSync(elsewhere, join(dir, 'credential'));
    const config = configWith({dataDir: join(dir, 'store')}, {credentialFile: join(dir, 'credential')});
    await expect(establishAdminCredential(config)).rejects.toThrow(/is a symbolic link: .*Remove it/);
    await expect(adminCredentialOf(config)).rejects.toThrow(/is a symbolic link/);
    expect(readFileSync(elsewhere, 'utf8')).toBe('the attacker reads this file\n');
  });

  it('refuses a file others may read, and names what to do', async () => {
    const dir = temporaryDir('admin');
    const file = join(dir, 'credential');
    writeFileSync(file, 'secret\n');
    chmodSync(file, 0o644);
    const config = configWith({dataDir: join(dir, 'store')}, {credentialFile: file});
    await expect(establishAdminCredential(config)).rejects.toThrow(/may be read by others \(mode 644\): chmod 600/);
  });

  it("uses the operator's own credential and writes nothing", async () => {
    const dir = temporaryDir('admin');
    const config = configWith({dataDir: join(dir, 'store')}, {credential: {env: 'TEST_ADMIN_CREDENTIAL'}});
    const env = {TEST_ADMIN_CREDENTIAL: 'from-the-environment'};
    expect(await establishAdminCredential(config, env)).toEqual({credential: 'from-the-environment'});
    expect(await adminCredentialOf(config, env)).toBe('from-the-environment');
    expect(existsSync(join(dir, 'admin-credential'))).toBe(false);
  });

  it('says what to do when it cannot be written, or has not been yet', async () => {
    const dir = temporaryDir('admin');
    // A file where its folder should be: refused as root too.
    const notAFolder = join(dir, 'not-a-folder');
    writeFileSync(notAFolder, '');
    const unwritable = configWith({url: 'postgres://x@localhost/db'}, {credentialFile: join(notAFolder, 'credential')});
    await expect(establishAdminCredential(unwritable)).rejects.toThrow(
      /cannot read .*ENOTDIR.*Set admin.credential, or admin.credentialFile/,
    );
    const notYet = configWith({dataDir: join(dir, 'store')});
    await expect(adminCredentialOf(notYet)).rejects.toThrow(
      /no admin credential at .*admin-credential: the instance writes it when it starts/,
    );
  });
});
