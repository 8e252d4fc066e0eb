/**
 * HUB_BROWSER, or a display this session can show a browser on. Kept apart from the code that
 * opens a browser: every login asks, to choose between the browser and the device flow.
 */
export function canOpenBrowser(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  return Boolean(env.HUB_BROWSER?.trim()) || hasDisplay(env, platform);
}

export function hasDisplay(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): boolean {
  const overSsh = Boolean(env.SSH_CONNECTION || env.SSH_TTY);
  if (platform === 'darwin' || platform === 'win32') return !overSsh;
  // X forwarding over SSH opens a browser far from the loopback server it must reach.
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY) && !overSsh;
}
