import {existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs';
import {dirname} from 'node:path';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {openAccountBindings} from '../../../src/accounts/bindings.js';
import {ConfigError} from '../../../src/config.js';

const first = {issuer: 'https://id.example', subject: 'sub-first'};
const second = {issuer: 'https://id.example', subject: 'sub-second'};
const otherIssuer = {issuer: 'https://other.example', subject: 'sub-first'};

function bindingsPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'hub-auth-bindings-')), 'state', 'account-bindings.json');
}

describe('account bindings', () => {
  it('gives a name to the first holder that uses it, and never to another subject or issuer', async () => {
    const bindings = await openAccountBindings(bindingsPath());
    expect(await bindings.claim('alice', first)).toBe(true);
    expect(await bindings.claim('alice', second)).toBe(false);
    expect(await bindings.claim('alice', otherIssuer)).toBe(false);
    expect(await bindings.claim('alice', first)).toBe(true);
  });

  it('lets only one of two holders racing for a free name have it', async () => {
    const bindings = await openAccountBindings(bindingsPath());
    const answers = await Promise.all([bindings.claim('carol', first), bindings.claim('carol', second)]);
    expect(answers.filter(Boolean)).toHaveLength(1);
  });

  it('is shared by instances that share the file', async () => {
    const path = bindingsPath();
    const [one, two] = [await openAccountBindings(path), await openAccountBindings(path)];
    expect(await one.claim('dave', first)).toBe(true);
    expect(await two.claim('dave', second)).toBe(false);
    expect(await two.claim('dave', first)).toBe(true);
  });

  it('keeps the bindings across restarts, in a private file', async () => {
    const path = bindingsPath();
    expect(await (await openAccountBindings(path)).claim('erin', first)).toBe(true);
    expect(await (await openAccountBindings(path)).claim('erin', second)).toBe(false);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({accounts: {erin: {...first, since: expect.any(String)}}});
  });

  it('releases a name the operator removes from the file, within a second, in every instance', async () => {
    const path = bindingsPath();
    let nowMs = 0;
    const bindings = await openAccountBindings(path, {recheckMs: 1000, nowMs: () => nowMs});
    expect(await bindings.claim('frank', first)).toBe(true);
    writeFileSync(path, JSON.stringify({accounts: {}}));
    nowMs += 999;
    // Until the second is up the old holder keeps it: its registry tokens outlive that anyway.
    expect(await bindings.claim('frank', second)).toBe(false);
    nowMs += 1;
    expect(await bindings.claim('frank', second)).toBe(true);
    expect(await bindings.claim('frank', first)).toBe(false);
  });

  it('never gives away a name another instance bound, however old its own copy of the file', async () => {
    const path = bindingsPath();
    const stale = {recheckMs: Number.POSITIVE_INFINITY, nowMs: () => 0};
    const [one, two] = [await openAccountBindings(path, stale), await openAccountBindings(path, stale)];
    expect(await one.claim('grace', first)).toBe(true);
    expect(await two.claim('grace', second)).toBe(false);
    expect(await two.claim('grace', first)).toBe(true);
  });

  it('refuses every claim while an edit has left the file unreadable, until it is fixed', async () => {
    const path = bindingsPath();
    let nowMs = 0;
    const bindings = await openAccountBindings(path, {recheckMs: 1000, nowMs: () => nowMs});
    expect(await bindings.claim('heidi', first)).toBe(true);
    const good = readFileSync(path, 'utf8');
    writeFileSync(path, '{"accounts": {"heidi": ');
    nowMs += 1000;
    await expect(bindings.claim('heidi', first)).rejects.toThrow();
    // Within the same second too: the copy from before the edit does not answer for the broken file.
    await expect(bindings.claim('heidi', first)).rejects.toThrow();
    writeFileSync(path, good);
    expect(await bindings.claim('heidi', first)).toBe(true);
  });

  it('handles names that are also properties of every object', async () => {
    const bindings = await openAccountBindings(bindingsPath());
    expect(await bindings.claim('constructor', first)).toBe(true);
    expect(await bindings.claim('constructor', second)).toBe(false);
  });

  it('stops the start on a file it cannot read or write, naming the setting', async () => {
    const path = bindingsPath();
    await openAccountBindings(path);
    writeFileSync(path, '{not json');
    await expect(openAccountBindings(path)).rejects.toThrow(ConfigError);
    await expect(openAccountBindings(path)).rejects.toThrow(/accounts\.bindingsFile/);
  });

  describe('a bindings file that is a symbolic link', () => {
    /** A bindings path that is a link to `target` (created with `contents` unless undefined). */
    function linkedPath(contents: string | undefined): {path: string; target: string} {
      const path = bindingsPath();
      mkdirSync(dirname(path), {recursive: true});
      const target = join(dirname(path), '..', 'elsewhere.json');
      if (contents !== undefined) writeFileSync(target, contents);
      symlinkSync(target, path);
      return {path, target};
    }

    it('is refused at start, whether it leads to a file or to nothing, and neither is written', async () => {
      for (const contents of ['{"not": "bindings"}\n', undefined]) {
        const {path, target} = linkedPath(contents);
        await expect(openAccountBindings(path)).rejects.toThrow(/is a symbolic link .*accounts\.followBindingsSymlink/);
        if (contents === undefined) expect(existsSync(target)).toBe(false);
        else expect(readFileSync(target, 'utf8')).toBe(contents);
      }
    });

    it('is followed once at start when allowed, and said; a link to nothing is refused even then', async () => {
      const {path, target} = linkedPath('{"accounts": {}}\n');
      const followed: string[] = [];
      const bindings = await openAccountBindings(path, {followSymlink: true, onSymlinkFollowed: (real) => followed.push(real)});
      expect(followed).toHaveLength(1);
      expect(await bindings.claim('alice', first)).toBe(true);
      expect(JSON.parse(readFileSync(target, 'utf8'))).toMatchObject({accounts: {alice: {subject: first.subject}}});
      await expect(openAccountBindings(linkedPath(undefined).path, {followSymlink: true})).rejects.toThrow(/which does not exist/);
    });
  });
});
