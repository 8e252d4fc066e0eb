import {chmod, mkdtemp, readdir, readFile, stat, writeFile} from 'node:fs/promises';
import {homedir, tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {
  addCredentialHelper,
  dockerConfigDir,
  dockerConfigFile,
  readCredentialHelpers,
  removeCredentialHelper,
} from '../../../src/docker/config-file.js';
import {HubError} from '@hub/common/errors';

const registry = 'registry.example.com';
const checksModes = process.platform !== 'win32';

/** Lines as Go's `json.MarshalIndent(cfg, "", "\t")` writes them: tabs, `\u0026` for `&`, no final newline. */
function dockerJson(...lines: string[]): string {
  return lines.join('\n');
}

const dockerWritten = dockerJson(
  '{',
  '\t"auths": {',
  '\t\t"ghcr.io": {',
  '\t\t\t"auth": "dXNlcjpwYXNz"',
  '\t\t},',
  '\t\t"https://index.docker.io/v1/": {}',
  '\t},',
  '\t"psFormat": "table {{.ID}}\\t{{.Image}} \\u003c{{.Status}}\\u003e",',
  '\t"credsStore": "desktop",',
  '\t"proxies": {',
  '\t\t"default": {',
  '\t\t\t"httpProxy": "http://proxy.example.com:3128",',
  '\t\t\t"noProxy": "localhost,127.0.0.1"',
  '\t\t}',
  '\t},',
  '\t"currentContext": "desktop-linux",',
  '\t"plugins": {',
  '\t\t"x-tool": {',
  '\t\t\t"flags": "--a \\u0026 --b",',
  '\t\t\t"retries": [',
  '\t\t\t\t1,',
  '\t\t\t\t2.5,',
  '\t\t\t\tnull,',
  '\t\t\t\ttrue',
  '\t\t\t]',
  '\t\t}',
  '\t},',
  '\t"aliases": {',
  '\t\t"builder": "buildx"',
  '\t},',
  '\t"unknownKey": "ünïcødé"',
  '}',
);

async function tempConfigDir(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'hub-docker-config-')), 'docker');
}

async function configDirWith(content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hub-docker-config-'));
  await writeFile(join(dir, 'config.json'), content);
  return dir;
}

async function configText(dir: string): Promise<string> {
  return readFile(join(dir, 'config.json'), 'utf8');
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe('dockerConfigDir', () => {
  it('honours DOCKER_CONFIG', () => {
    expect(dockerConfigDir({DOCKER_CONFIG: '/srv/docker-config', HOME: '/home/alice'})).toBe('/srv/docker-config');
  });

  it.skipIf(process.platform === 'win32')('falls back to ~/.docker when DOCKER_CONFIG is unset or empty', () => {
    expect(dockerConfigDir({HOME: '/home/alice'})).toBe(join('/home/alice', '.docker'));
    expect(dockerConfigDir({DOCKER_CONFIG: '', HOME: '/home/alice'})).toBe(join('/home/alice', '.docker'));
    expect(dockerConfigDir({})).toBe(join(homedir(), '.docker'));
  });
});

describe('credential helper entries in docker’s config.json', () => {
  it('gives back a docker-written file byte for byte after add then remove', async () => {
    const dir = await configDirWith(dockerWritten);

    expect(await addCredentialHelper(dockerConfigFile(dir), registry)).toBe('added');
    expect(await configText(dir)).toBe(dockerWritten.replace(/\n}$/, `,\n\t"credHelpers": {\n\t\t"${registry}": "hub"\n\t}\n}`));
    expect(await readCredentialHelpers(dockerConfigFile(dir))).toEqual({[registry]: 'hub'});

    expect(await removeCredentialHelper(dockerConfigFile(dir), registry)).toBe('removed');
    expect(await configText(dir)).toBe(dockerWritten);
  });

  it('keeps another registry’s helper, and its place, through add then remove', async () => {
    const original = dockerJson(
      '{',
      '\t"auths": {},',
      '\t"credHelpers": {',
      '\t\t"123456789012.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"',
      '\t},',
      '\t"currentContext": "default"',
      '}',
    );
    const dir = await configDirWith(original);

    expect(await addCredentialHelper(dockerConfigFile(dir), 'localhost:5000')).toBe('added');
    expect(await readCredentialHelpers(dockerConfigFile(dir))).toEqual({
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com': 'ecr-login',
      'localhost:5000': 'hub',
    });
    expect(await removeCredentialHelper(dockerConfigFile(dir), 'localhost:5000')).toBe('removed');
    expect(await configText(dir)).toBe(original);
  });

  it('reports repeated adds and removes without rewriting the file', async () => {
    const dir = await configDirWith('{\n  "auths": {}\n}\n');
    expect(await removeCredentialHelper(dockerConfigFile(dir), registry)).toBe('absent');
    expect(await configText(dir)).toBe('{\n  "auths": {}\n}\n');

    expect(await addCredentialHelper(dockerConfigFile(dir), registry)).toBe('added');
    const added = await configText(dir);
    expect(await addCredentialHelper(dockerConfigFile(dir), registry)).toBe('unchanged');
    expect(await configText(dir)).toBe(added);

    expect(await removeCredentialHelper(dockerConfigFile(dir), registry)).toBe('removed');
    expect(await removeCredentialHelper(dockerConfigFile(dir), registry)).toBe('absent');
  });

  it('leaves an entry that points at another helper when removing', async () => {
    const original = dockerJson('{', '\t"credHelpers": {', `\t\t"${registry}": "ecr-login"`, '\t}', '}');
    const dir = await configDirWith(original);
    expect(await removeCredentialHelper(dockerConfigFile(dir), registry)).toBe('absent');
    expect(await configText(dir)).toBe(original);
  });

  it('takes over an entry that points at another helper when adding', async () => {
    const dir = await configDirWith(dockerJson('{', '\t"credHelpers": {', `\t\t"${registry}": "ecr-login"`, '\t}', '}'));
    expect(await addCredentialHelper(dockerConfigFile(dir), registry)).toBe('added');
    expect(await readCredentialHelpers(dockerConfigFile(dir))).toEqual({[registry]: 'hub'});
  });

  it.skipIf(!checksModes)('keeps the file’s permissions on add and on remove', async () => {
    const dir = await configDirWith(dockerWritten);
    const file = join(dir, 'config.json');
    await chmod(file, 0o640);

    await addCredentialHelper(dockerConfigFile(dir), registry);
    expect(await modeOf(file)).toBe(0o640);
    await removeCredentialHelper(dockerConfigFile(dir), registry);
    expect(await modeOf(file)).toBe(0o640);
  });

  it('creates a missing file 0600 in a missing folder 0700', async () => {
    const dir = await tempConfigDir();
    expect(await readCredentialHelpers(dockerConfigFile(dir))).toEqual({});

    expect(await addCredentialHelper(dockerConfigFile(dir), 'localhost:5000')).toBe('added');
    expect(await configText(dir)).toBe(dockerJson('{', '\t"credHelpers": {', '\t\t"localhost:5000": "hub"', '\t}', '}'));
    if (checksModes) {
      expect(await modeOf(dir)).toBe(0o700);
      expect(await modeOf(join(dir, 'config.json'))).toBe(0o600);
    }
  });

  it('treats an empty file as an empty config, as docker does', async () => {
    const dir = await configDirWith('');
    expect(await readCredentialHelpers(dockerConfigFile(dir))).toEqual({});
    expect(await addCredentialHelper(dockerConfigFile(dir), registry)).toBe('added');
    expect(await removeCredentialHelper(dockerConfigFile(dir), registry)).toBe('removed');
    expect(await configText(dir)).toBe('{}');
  });

  it.each([
    ['not JSON', '{"auths": {', /is not JSON/],
    ['a JSON array', '[]', /top level is not a JSON object/],
    ['JSON null', 'null', /top level is not a JSON object/],
    ['a JSON string', '"config"', /top level is not a JSON object/],
    ['credHelpers as an array', '{"credHelpers": ["hub"]}', /"credHelpers" is not an object/],
    ['credHelpers as null', '{"credHelpers": null}', /"credHelpers" is not an object/],
    ['a credHelpers value that is not a string', '{"credHelpers": {"a.example": 1}}', /"credHelpers" is not an object/],
  ])('refuses %s, names the file, and leaves it untouched', async (_what, content, detail) => {
    const dir = await configDirWith(content);
    const file = join(dir, 'config.json');

    for (const attempt of [
      () => addCredentialHelper(dockerConfigFile(dir), registry),
      () => removeCredentialHelper(dockerConfigFile(dir), registry),
      () => readCredentialHelpers(dockerConfigFile(dir)),
    ]) {
      const error: unknown = await attempt().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(HubError);
      expect((error as HubError).message).toContain(file);
      expect((error as HubError).message).toMatch(detail);
      expect((error as HubError).suggestions.join(' ')).toMatch(/Fix/);
    }
    expect(await configText(dir)).toBe(content);
    expect(await readdir(dir)).toEqual(['config.json']);
  });

  // lockFile's retry back-off makes 20 contenders take a few seconds, close to vitest's default 5 s.
  it('keeps every entry when 20 adds for 20 hosts run at once', {timeout: 20_000}, async () => {
    const dir = await tempConfigDir();
    const hosts = Array.from({length: 20}, (_, i) => `r${i}.example:5000`);
    await Promise.all(hosts.map((host) => addCredentialHelper(dockerConfigFile(dir), host)));
    expect(Object.keys(await readCredentialHelpers(dockerConfigFile(dir))).sort()).toEqual([...hosts].sort());
    expect(await readdir(dir)).toEqual(['config.json']);
  });
});
