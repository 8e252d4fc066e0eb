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
/** Where a tag's image is deleted: its confirmation page, and the form's target. */
export const deletePath = (name: string, tag: string) => `${repositoryPath(name)}/-/delete/${encodeURIComponent(tag)}`;

/** What a path under /web/repositories/ names: a repository, an image of one by tag or digest, or a tag's deletion. */
export function pageOf(rest: string): {repository: string; reference?: string; deleting?: boolean} {
  const [name = '', after] = rest.split('/-/', 2);
  const repository = decodeURIComponent(name.replace(/\/$/, ''));
  if (after === undefined) return {repository};
  const match = /^(images|delete)\/([^/]+)$/.exec(after);
  if (!match) return {repository, reference: ''};
  return {repository, reference: decodeURIComponent(match[2]!), ...(match[1] === 'delete' ? {deleting: true} : {})};
}
