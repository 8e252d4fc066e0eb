import {readdirSync, readFileSync} from 'node:fs';
import {join, relative} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseAllDocuments} from 'yaml';

/** The deployment as shipped (deploy/), read the way the tests of its files need it. */

export const DEPLOY_DIR = fileURLToPath(new URL('../../deploy/', import.meta.url));

export function deployText(path: string): string {
  return readFileSync(join(DEPLOY_DIR, path), 'utf8');
}

/** Every YAML file under deploy/, as paths relative to it. */
export function yamlFiles(dir = DEPLOY_DIR): string[] {
  return readdirSync(dir, {withFileTypes: true, recursive: true})
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => relative(DEPLOY_DIR, join(entry.parentPath, entry.name)))
    .sort();
}

/** The documents of one YAML file; a syntax error fails with the file's name. */
export function yamlDocuments(path: string): unknown[] {
  return parseAllDocuments(deployText(path))
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`${path}: ${document.errors.map((error) => error.message).join('; ')}`);
      return document.toJS({maxAliasCount: 100}) as unknown;
    })
    .filter((document) => document !== null);
}

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: {name: string; namespace?: string};
  [field: string]: unknown;
}

export const KUBERNETES_DIR = 'kubernetes';

/** Every object in deploy/kubernetes/, with the file it came from. */
export function kubernetesObjects(): Array<{file: string; object: KubernetesObject}> {
  return yamlFiles()
    .filter((file) => file.startsWith(`${KUBERNETES_DIR}/`))
    .flatMap((file) => yamlDocuments(file).map((object) => ({file, object: object as KubernetesObject})));
}

export function kubernetesObject<T = KubernetesObject>(kind: string, name: string): T {
  const found = kubernetesObjects().find(({object}) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`deploy/${KUBERNETES_DIR} has no ${kind} ${name}`);
  return found.object as T;
}

/** The text of one file in a ConfigMap, e.g. hub-auth's hub-auth.yml. */
export function configMapText(name: string, key: string): string {
  const {data} = kubernetesObject<{data: Record<string, string>}>('ConfigMap', name);
  const text = data[key];
  if (text === undefined) throw new Error(`ConfigMap ${name} has no ${key}`);
  return text;
}
