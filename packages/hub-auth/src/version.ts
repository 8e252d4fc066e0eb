import {readFileSync} from 'node:fs';

/** hub-auth's version: the package's, as `hub-auth --version` and the build_info metric show it. */
export function hubAuthVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version: string}).version;
}
