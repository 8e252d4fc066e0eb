import {Config} from '@oclif/core';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {hubConfigDir} from '../../../src/config/paths.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('hubConfigDir', () => {
  it("is oclif's configDir for the hub CLI, so the credential helper and the CLI agree", async () => {
    const config = await Config.load(root);
    expect(hubConfigDir(process.env, process.platform)).toBe(config.configDir);
  });

  it('follows XDG_CONFIG_HOME, LOCALAPPDATA on Windows, and HUB_CONFIG_DIR above both', () => {
    expect(hubConfigDir({HOME: '/home/a'}, 'linux')).toBe('/home/a/.config/hub');
    expect(hubConfigDir({HOME: '/home/a', XDG_CONFIG_HOME: '/x'}, 'linux')).toBe('/x/hub');
    expect(hubConfigDir({HOME: '/Users/a'}, 'darwin')).toBe('/Users/a/.config/hub');
    expect(hubConfigDir({HOME: 'C:\\Users\\a', LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local'}, 'win32')).toMatch(/AppData.Local.hub$/);
    expect(hubConfigDir({HOME: '/home/a', HUB_CONFIG_DIR: '/etc/hub'}, 'linux')).toBe('/etc/hub');
  });
});
