import {describe, expect, it} from 'vitest';
import {containersAuthFile} from '../../../src/docker/containers-auth-file.js';

// The file containers/image (podman, buildah, skopeo) reads first and `podman login` writes.
describe('containersAuthFile', () => {
  it('is REGISTRY_AUTH_FILE when set, on every system', () => {
    const env = {REGISTRY_AUTH_FILE: '/tmp/auth.json', XDG_RUNTIME_DIR: '/run/user/1000', HOME: '/home/alice'};
    expect(containersAuthFile(env, 'linux').path).toBe('/tmp/auth.json');
    expect(containersAuthFile(env, 'darwin').path).toBe('/tmp/auth.json');
  });

  it('is in XDG_RUNTIME_DIR on Linux, else in /run/containers/UID', () => {
    expect(containersAuthFile({XDG_RUNTIME_DIR: '/run/user/1000'}, 'linux').path).toBe('/run/user/1000/containers/auth.json');
    expect(containersAuthFile({}, 'linux').path).toBe(`/run/containers/${process.getuid?.() ?? 0}/auth.json`);
  });

  it('is under ~/.config elsewhere', () => {
    expect(containersAuthFile({HOME: '/Users/alice', XDG_RUNTIME_DIR: '/x'}, 'darwin').path).toBe(
      '/Users/alice/.config/containers/auth.json',
    );
  });

  it('names itself and podman in messages', () => {
    expect(containersAuthFile({REGISTRY_AUTH_FILE: '/a'})).toEqual({path: '/a', title: 'The containers auth file', tool: 'podman'});
  });
});
