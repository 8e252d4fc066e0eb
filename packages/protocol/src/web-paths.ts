/**
 * Where each page of the web hub (packages/hub-web) is: the web hub serves them, and `hub open`
 * opens them. A repository name has slashes, so what follows it comes after `/-/`, which
 * no name can hold (a path component starts with a letter or digit).
 */
export const WEB_PREFIX = '/web';
export const HOME = `${WEB_PREFIX}/`;
export const SIGN_IN = `${WEB_PREFIX}/sign-in`;
export const CALLBACK = `${WEB_PREFIX}/callback`;
export const SIGN_OUT = `${WEB_PREFIX}/sign-out`;
export const REPOSITORIES = `${WEB_PREFIX}/repositories`;
export const NAMESPACES = `${WEB_PREFIX}/namespaces`;

const encodedName = (name: string) => name.split('/').map(encodeURIComponent).join('/');

export const repositoryPath = (name: string) => `${REPOSITORIES}/${encodedName(name)}`;
export const namespacePath = (namespace: string) => `${NAMESPACES}/${encodedName(namespace)}`;
export const imagePath = (name: string, reference: string) => `${repositoryPath(name)}/-/images/${encodeURIComponent(reference)}`;

/** What a path under /web/repositories/ names: a repository, or an image of one by tag or digest. */
export function pageOf(rest: string): {repository: string; reference?: string} {
  const [name = '', after] = rest.split('/-/', 2);
  const repository = decodeURIComponent(name.replace(/\/$/, ''));
  if (after === undefined) return {repository};
  const match = /^images\/([^/]+)$/.exec(after);
  return match ? {repository, reference: decodeURIComponent(match[1]!)} : {repository, reference: ''};
}
