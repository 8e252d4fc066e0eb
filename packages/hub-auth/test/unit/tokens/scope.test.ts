import {describe, expect, it} from 'vitest';
import {isValidRepositoryName} from '@hub/protocol/repository-name';
import {formatScope, parseScopes, rememberingScopeParser} from '../../../src/tokens/scope.js';

describe('parseScopes', () => {
  it('parses a repository scope', () => {
    expect(parseScopes(['repository:alice/app:pull,push'])).toEqual([{type: 'repository', name: 'alice/app', actions: ['pull', 'push']}]);
  });

  it('parses a resource class', () => {
    expect(parseScopes(['repository(plugin):alice/plugin:pull'])).toEqual([
      {type: 'repository', class: 'plugin', name: 'alice/plugin', actions: ['pull']},
    ]);
  });

  it('leaves out the class key when no class is given', () => {
    expect(parseScopes(['repository:app:pull'])[0]).not.toHaveProperty('class');
  });

  it('parses registry:catalog:*', () => {
    expect(parseScopes(['registry:catalog:*'])).toEqual([{type: 'registry', name: 'catalog', actions: ['*']}]);
  });

  it('keeps delete, * and unknown actions as asked', () => {
    expect(parseScopes(['repository:app:pull,delete,*,frobnicate'])).toEqual([
      {type: 'repository', name: 'app', actions: ['pull', 'delete', '*', 'frobnicate']},
    ]);
  });

  it('skips empty items of the action list', () => {
    expect(parseScopes(['repository:app:pull,,push,'])).toEqual([{type: 'repository', name: 'app', actions: ['pull', 'push']}]);
  });

  it('reads several space-separated scopes from one value (the OAuth2 form)', () => {
    expect(parseScopes(['repository:a:pull  repository:b:push registry:catalog:*'])).toEqual([
      {type: 'repository', name: 'a', actions: ['pull']},
      {type: 'repository', name: 'b', actions: ['push']},
      {type: 'registry', name: 'catalog', actions: ['*']},
    ]);
  });

  it('reads one scope per value across several values (the GET form)', () => {
    expect(parseScopes(['repository:a:pull', 'repository:b:push'])).toEqual([
      {type: 'repository', name: 'a', actions: ['pull']},
      {type: 'repository', name: 'b', actions: ['push']},
    ]);
  });

  it('takes the name of a non-repository resource from the first to the last colon', () => {
    expect(parseScopes(['widget:a:b:c:pull'])).toEqual([{type: 'widget', name: 'a:b:c', actions: ['pull']}]);
  });

  it('merges scopes naming the same resource, keeping order and dropping duplicates', () => {
    expect(parseScopes(['repository:a:pull repository:b:pull', 'repository:a:push,pull,pull'])).toEqual([
      {type: 'repository', name: 'a', actions: ['pull', 'push']},
      {type: 'repository', name: 'b', actions: ['pull']},
    ]);
  });

  it('keeps resources of different classes apart', () => {
    expect(parseScopes(['repository:a:pull repository(plugin):a:push'])).toEqual([
      {type: 'repository', name: 'a', actions: ['pull']},
      {type: 'repository', class: 'plugin', name: 'a', actions: ['push']},
    ]);
  });

  it.each([
    ['', 'empty'],
    ['repository', 'no colon'],
    ['repository:app', 'no actions part'],
    ['repository:app:', 'no action'],
    ['repository::pull', 'empty name'],
    [':app:pull', 'empty type'],
    ['Repository:app:pull', 'upper-case type'],
    ['repo-sitory:app:pull', 'type outside [a-z0-9]'],
    ['repository():app:pull', 'empty class'],
    ['repository(plugin:app:pull', 'unclosed class'],
    ['repository(a)(b):app:pull', 'two classes'],
    ['repository:app:PULL', 'upper-case action'],
    ['repository:app:pull;rm', 'action outside [a-z]'],
    ['repository:app:pu*ll', 'wildcard inside an action'],
    ['repository:App:pull', 'upper-case name'],
    ['repository:localhost:5000/app:pull', 'name with a registry host'],
    ['repository:a/../b:pull', 'path traversal'],
    ['repository:../x:pull', 'leading ..'],
    ['repository:/x:pull', 'leading slash'],
    ['repository:x/:pull', 'trailing slash'],
    ['repository:a//b:pull', 'empty component'],
    ['repository:a..b:pull', 'double dot'],
    ['repository:-a:pull', 'leading separator'],
    ['repository:a___b:pull', 'three underscores'],
    [`repository:${'a'.repeat(256)}:pull`, 'name over 255 characters'],
    ['registry:cat\u00e4log:*', 'non-ASCII name of another type'],
    ['registry:cat\talog:*', 'control character in the name of another type'],
  ])('drops %j (%s)', (value) => {
    expect(parseScopes([value])).toEqual([]);
  });

  it('drops a malformed scope but keeps its well-formed neighbours', () => {
    expect(parseScopes(['repository:a/../b:pull repository:ok:pull', 'nonsense'])).toEqual([
      {type: 'repository', name: 'ok', actions: ['pull']},
    ]);
  });

  it('accepts a name of exactly 255 characters', () => {
    const name = 'a'.repeat(255);
    expect(parseScopes([`repository:${name}:pull`])).toEqual([{type: 'repository', name, actions: ['pull']}]);
  });

  it('ignores a value longer than 4096 characters whole', () => {
    const padding = ' '.repeat(4097 - 'repository:a:pull'.length);
    expect(parseScopes([`repository:a:pull${padding}`, 'repository:b:pull'])).toEqual([{type: 'repository', name: 'b', actions: ['pull']}]);
  });

  it('reads a value of exactly 4096 characters', () => {
    const padding = ' '.repeat(4096 - 'repository:a:pull'.length);
    expect(parseScopes([`repository:a:pull${padding}`])).toHaveLength(1);
  });

  it('keeps at most 64 resources, still merging actions into those kept', () => {
    const values = Array.from({length: 70}, (_, index) => `repository:r${index}:pull`);
    const scopes = parseScopes([...values, 'repository:r0:push']);
    expect(scopes).toHaveLength(64);
    expect(scopes[63]?.name).toBe('r63');
    expect(scopes[0]).toEqual({type: 'repository', name: 'r0', actions: ['pull', 'push']});
  });

  it('stays fast on a name built to make a backtracking matcher explode', () => {
    const started = performance.now();
    expect(parseScopes([`repository:${'a'.repeat(254)}!:pull`])).toEqual([]);
    expect(performance.now() - started).toBeLessThan(100);
  });
});

describe('formatScope', () => {
  it.each(['repository:alice/app:pull,push', 'repository(plugin):alice/plugin:pull', 'registry:catalog:*'])(
    'formats %s back as it was parsed',
    (value) => {
      const [scope] = parseScopes([value]);
      expect(formatScope(scope!)).toBe(value);
    },
  );
});

describe('isValidRepositoryName', () => {
  it.each([
    'app',
    'alice/app',
    'alice/team/app',
    'a.b/c_d/e__f/g-h/i---j',
    'library/ubuntu',
    'registry.example.com/app',
    '0',
    'a'.repeat(255),
  ])('accepts %j', (name) => {
    expect(isValidRepositoryName(name)).toBe(true);
  });

  it.each([
    '',
    'App',
    'a/../b',
    '../x',
    '..',
    '.',
    '/x',
    'x/',
    'a//b',
    'a/./b',
    'a..b',
    'a.-b',
    'a___b',
    '_a',
    'a-',
    'a b',
    'a:b',
    'localhost:5000/app',
    'a@sha256',
    'a'.repeat(256),
  ])('refuses %j', (name) => {
    expect(isValidRepositoryName(name)).toBe(false);
  });
});

describe('rememberingScopeParser', () => {
  it('parses as parseScopes does, once per list of scope texts', () => {
    const parse = rememberingScopeParser(2);
    const scopes = parse(['repository:alice/app:pull', 'repository:alice/app:push']);
    expect(scopes).toEqual(parseScopes(['repository:alice/app:pull', 'repository:alice/app:push']));
    expect(parse(['repository:alice/app:pull', 'repository:alice/app:push'])).toBe(scopes);
    // One text holding both is another list of texts, parsed on its own.
    expect(parse(['repository:alice/app:pull repository:alice/app:push'])).not.toBe(scopes);
    expect(parse(['repository:alice/app:pull'])).toEqual([{type: 'repository', name: 'alice/app', actions: ['pull']}]);
  });
});
