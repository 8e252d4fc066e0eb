import {chmod, mkdir, mkdtemp, rm, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runHub} from '@hub/test-stack/hub-cli';
import {startIdentityProvider, type IdentityProvider} from '@hub/test-stack/identity-provider';
import {canActAsAnotherUser, OTHER_USER_UID} from '@hub/test-stack/process';

/**
 * hub run by a user who may not write the folders it would keep its files in: as `nobody`, since
 * root writes a 0555 folder anyway. The folders are root's, 0555, as after a `sudo hub login`.
 */
describe.runIf(canActAsAnotherUser() || process.env.CI === 'true')('hub with a folder it may not write', () => {
  let dir: string;
  let home: string;
  let opened: string;
  let env: NodeJS.ProcessEnv;
  let idp: IdentityProvider;

  beforeAll(async () => {
    idp = await startIdentityProvider();
    dir = await mkdtemp(join(tmpdir(), 'hub-unwritable-'));
    home = join(dir, 'home');
    // The "browser" leaves a mark where nobody may write, so that an opened browser shows.
    const marks = join(dir, 'marks');
    opened = join(marks, 'opened');
    await mkdir(join(home, '.config'), {recursive: true});
    await mkdir(marks);
    const browser = join(dir, 'browser.sh');
    await writeFile(browser, `#!/bin/sh\ntouch ${opened}\n`);
    await chmod(browser, 0o755);
    await chmod(marks, 0o777);
    await chmod(join(home, '.config'), 0o555);
    await chmod(home, 0o555);
    await chmod(dir, 0o755);
    env = {PATH: process.env.PATH, HOME: home, HUB_BROWSER: browser};
  });

  afterAll(async () => {
    await idp?.stop();
    if (dir) await rm(dir, {recursive: true, force: true});
  });

  const sent = (what: string) => expect.stringMatching(new RegExp(what)) as unknown;

  it('hub login --insecure-storage stops before the browser, in one line naming the folder and what to set', async () => {
    const folder = join(home, '.config', 'hub');
    const result = await runHub(
      ['login', '127.0.0.1:5999', '--issuer', idp.issuer, '--client-id', idp.clientId, '--insecure-storage'],
      env,
      {uid: OTHER_USER_UID},
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `Error: hub cannot keep its settings and tokens in ${folder}: ${join(home, '.config')} is not writable by you. Set HUB_CONFIG_DIR (or XDG_CONFIG_HOME) to a folder you can write.\n`,
    );
    expect(result.stderr).not.toMatch(/EACCES|tokens are stored|Opened your browser/);
    await expect(stat(opened)).rejects.toMatchObject({code: 'ENOENT'});
  });

  it('the same under HUB_CONFIG_DIR, and in --json', async () => {
    const result = await runHub(
      ['login', '127.0.0.1:5999', '--issuer', idp.issuer, '--client-id', idp.clientId, '--insecure-storage', '--json'],
      {...env, HUB_CONFIG_DIR: join(home, 'hub-config')},
      {uid: OTHER_USER_UID},
    );
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      error: {
        code: 'folder_unwritable',
        message: sent(`^hub cannot keep its settings and tokens in ${join(home, 'hub-config')}: `),
        suggestion: null,
      },
    });
  });

  it('hub autocomplete with an unwritable ~/.cache says which folder and what to set, exit 1', async () => {
    const result = await runHub(['autocomplete', 'bash'], env, {uid: OTHER_USER_UID});
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Error: hub cannot keep its completion cache in ${join(home, '.cache', 'hub')}: ${home} is not writable by you. Set XDG_CACHE_HOME (or HUB_CACHE_DIR) to a folder you can write.\n`,
    );
    expect(result.stdout).toBe('');
  });
});
