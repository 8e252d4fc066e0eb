import {describe, expect, it} from 'vitest';
import {formatImageReference, parseImageReference, qualifyReference} from '../../../src/docker/image-reference.js';

const sha256 = `sha256:${'a'.repeat(64)}`;

describe('parseImageReference', () => {
  it.each([
    ['myapp', {path: 'myapp'}],
    ['myapp:1.0', {path: 'myapp', tag: '1.0'}],
    ['team/app', {path: 'team/app'}],
    ['a/b/c/d', {path: 'a/b/c/d'}],
    ['my.app_name__x---y', {path: 'my.app_name__x---y'}],
    ['registry.example.com/team/app:v1_2-rc.3', {domain: 'registry.example.com', path: 'team/app', tag: 'v1_2-rc.3'}],
    ['localhost/app', {domain: 'localhost', path: 'app'}],
    ['localhost:5000/x', {domain: 'localhost:5000', path: 'x'}],
    ['localhost:5000/x:5000', {domain: 'localhost:5000', path: 'x', tag: '5000'}],
    ['[::1]:5000/x', {domain: '[::1]:5000', path: 'x'}],
    ['[2001:db8::1]/team/x:1', {domain: '[2001:db8::1]', path: 'team/x', tag: '1'}],
    ['Registry.Example.COM:443/x', {domain: 'Registry.Example.COM:443', path: 'x'}],
    ['10.0.0.1:5000/x', {domain: '10.0.0.1:5000', path: 'x'}],
    ['localhost:5000', {path: 'localhost', tag: '5000'}],
    [`app@${sha256}`, {path: 'app', digest: sha256}],
    [`app:1.0@${sha256}`, {path: 'app', tag: '1.0', digest: sha256}],
    [`app@sha512:${'0'.repeat(128)}`, {path: 'app', digest: `sha512:${'0'.repeat(128)}`}],
    [`app:_${'x'.repeat(127)}`, {path: 'app', tag: `_${'x'.repeat(127)}`}],
  ])('%s', (input, expected) => {
    expect(parseImageReference(input)).toEqual(expected);
    expect(formatImageReference(parseImageReference(input))).toBe(input);
  });

  it('accepts a name of exactly 255 characters', () => {
    const name = `${'a'.repeat(127)}/${'b'.repeat(127)}`;
    expect(name).toHaveLength(255);
    expect(parseImageReference(`${name}:1`).path).toBe(name);
  });

  it.each([
    ['', /is empty/],
    ['MyApp', /uppercase/],
    ['team/MyApp:1.0', /uppercase/],
    ['Team/app', /uppercase/],
    ['a//b', /empty path component/],
    ['/a', /empty path component/],
    ['a/', /empty path component/],
    ['localhost:5000/', /empty path component/],
    [':1.0', /no repository name/],
    ['-a', /"-a" must start and end/],
    ['a-', /"a-" must start and end/],
    ['a_', /"a_" must start and end/],
    ['a..b', /may only contain/],
    ['a___b', /may only contain/],
    ['a b', /may only contain/],
    ['app:', /tag after ":" is empty/],
    ['app:-1', /tag "-1" must start/],
    ['app:.1', /tag ".1" must start/],
    ['app:1+2', /tag "1\+2" must start/],
    [`app:${'a'.repeat(129)}`, /129 characters long; the limit is 128/],
    ['app@', /not of the form algorithm:hex/],
    ['app@sha256', /not of the form algorithm:hex/],
    ['app@sha256:abc', /64 lowercase hexadecimal/],
    [`app@sha256:${'A'.repeat(64)}`, /64 lowercase hexadecimal/],
    [`app@sha256:${'a'.repeat(65)}`, /64 lowercase hexadecimal/],
    [`app@md5:${'a'.repeat(32)}`, /"md5" is not supported/],
    [`app@constructor:${'a'.repeat(64)}`, /"constructor" is not supported/],
    ['exa_mple.com/x', /registry host "exa_mple.com"/],
    ['-bad.com/x', /registry host "-bad.com"/],
    ['host.com:port/x', /port "port" is not a number/],
    ['[::1/x', /registry host/],
    ['[zz::1]:5000/x', /registry host "\[zz::1\]"/],
    [`${'a'.repeat(128)}/${'b'.repeat(127)}`, /256 characters long; the limit is 255/],
    [`${'a'.repeat(256)}:1.0`, /256 characters long/],
  ])('rejects %j', (input, why) => {
    let error: unknown;
    try {
      parseImageReference(input);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({name: 'HubError', exit: 2, code: 'invalid_reference'});
    const {message, suggestions} = error as {message: string; suggestions: string[]};
    expect(message).toContain(`"${input}"`);
    expect(message).toMatch(why);
    expect(suggestions.join(' ')).toContain('registry.example.com/team/myapp');
  });

  it.each([
    ['dashes then a bang', `${'a-'.repeat(127)}!`],
    ['separators then uppercase', `${'a_'.repeat(127)}A`],
    ['long alnum then a bad character', `${'a'.repeat(254)}!`],
    ['dots and underscores', `${'a._'.repeat(85)}`],
    ['many dashes', `a${'-'.repeat(253)}!`],
    ['a long domain label', `${'a-'.repeat(124)}-.com/x`],
  ])('answers on an adversarial 255-character name: %s', (_, input) => {
    // No clock here: a backtracking blow-up on these inputs would not finish before the test's timeout.
    expect(input.length).toBeLessThanOrEqual(255);
    expect(() => parseImageReference(input)).toThrow(expect.objectContaining({code: 'invalid_reference'}));
  });
});

describe('formatImageReference', () => {
  it('joins the parts', () => {
    expect(formatImageReference({domain: 'r.example.com', path: 'a/b', tag: '1', digest: sha256})).toBe(`r.example.com/a/b:1@${sha256}`);
    expect(formatImageReference({path: 'app'})).toBe('app');
  });
});

describe('qualifyReference', () => {
  const registry = 'registry.example.com';

  it('puts a bare name under the account', () => {
    expect(qualifyReference('myapp:1.0', registry, 'alice')).toEqual({
      local: 'myapp:1.0',
      remote: {domain: registry, path: 'alice/myapp', tag: '1.0'},
      remoteName: 'registry.example.com/alice/myapp',
      tag: '1.0',
    });
  });

  it('puts a path into the registry as written', () => {
    expect(qualifyReference('team/app', registry, 'alice')).toEqual({
      local: 'team/app',
      remote: {domain: registry, path: 'team/app', tag: 'latest'},
      remoteName: 'registry.example.com/team/app',
      tag: 'latest',
    });
  });

  it('takes a reference with a domain as it is', () => {
    expect(qualifyReference('other.example.com:5000/x/y:2', registry, 'alice')).toEqual({
      local: 'other.example.com:5000/x/y:2',
      remote: {domain: 'other.example.com:5000', path: 'x/y', tag: '2'},
      remoteName: 'other.example.com:5000/x/y',
      tag: '2',
    });
  });

  it('does not invent a tag for a digest', () => {
    const qualified = qualifyReference(`myapp@${sha256}`, 'localhost:5000', 'alice');
    expect(qualified.tag).toBe('');
    expect(formatImageReference(qualified.remote)).toBe(`localhost:5000/alice/myapp@${sha256}`);
  });

  it('rejects an account that cannot be a repository path', () => {
    expect(() => qualifyReference('myapp', registry, 'Alice')).toThrow(/registry.example.com\/Alice\/myapp.*uppercase/);
  });

  it('rejects a registry docker would read as a path', () => {
    expect(() => qualifyReference('myapp', 'myregistry', 'alice')).toThrow(
      expect.objectContaining({code: 'unaddressable_registry', message: expect.stringContaining('"myregistry"')}),
    );
  });

  it('rejects a name made too long by qualifying it', () => {
    expect(() => qualifyReference('a'.repeat(230), registry, 'alice')).toThrow(/characters long; the limit is 255/);
  });
});
