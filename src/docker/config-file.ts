import {readFile} from 'node:fs/promises';
import {homedir} from 'node:os';
import {join} from 'node:path';
import {HubError} from '@hub/common/errors';
import {stringifyOrRefuse} from '@hub/common/atomic-json-file';
import {lockFile} from '@hub/common/file-lock';
import {isRecord} from '@hub/common/json-shape';

/**
 * hub's edits to docker's `config.json`, and to the containers tools' `auth.json`
 * (containers-auth.json(5): the same format, written by the same kind of Go encoder), pointing
 * `credHelpers` entries at `docker-credential-hub`. The file belongs to its tool and to the user,
 * so hub changes only its own entries, writes the rest back as the tool itself would
 * (tab-indented, no trailing newline, same key order, same permissions), never rewrites a file it
 * cannot read, and does not touch the file at all when nothing changes. The tools do not honour
 * hub's lock, but they also replace the file by rename, so neither side ever reads half a file.
 */

type DockerConfig = Record<string, unknown> & {credHelpers?: Record<string, string>};

/** A file in docker's config format, and how messages name it. */
export interface HelperFile {
  path: string;
  /** "Docker's config file", "The containers auth file": what an error calls it. */
  title: string;
  /** The program whose `login` writes it too (docker, podman). */
  tool: string;
}

/** docker's `config.json` in its config folder. */
export function dockerConfigFile(configDir: string): HelperFile {
  return {path: join(configDir, 'config.json'), title: "Docker's config file", tool: 'docker'};
}

/** docker's `config.Dir()`: `$DOCKER_CONFIG`, else `.docker` in the home folder docker would pick. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DOCKER_CONFIG) return env.DOCKER_CONFIG;
  const home = process.platform === 'win32' ? env.USERPROFILE : env.HOME;
  return join(home || homedir(), '.docker');
}

/** Points `registry` at `docker-credential-<helper>`, replacing whatever helper it used before. */
export async function addCredentialHelper(file: HelperFile, registry: string, helper = 'hub'): Promise<'added' | 'unchanged'> {
  return changeDockerConfig(file, (config) => {
    const helpers = config.credHelpers ?? {};
    if (helpers[registry] === helper) return 'unchanged';
    helpers[registry] = helper;
    config.credHelpers = helpers;
    return 'added';
  });
}

/**
 * Removes `registry`'s entry only while it still names `helper`: an entry for another helper was
 * put there by someone else and is theirs to remove. A `credHelpers` left empty goes too, because
 * an add followed by a remove must give back the file as it was, and hub cannot tell across
 * processes whether it created that key; an empty one means nothing to docker either way.
 */
export async function removeCredentialHelper(file: HelperFile, registry: string, helper = 'hub'): Promise<'removed' | 'absent'> {
  return changeDockerConfig(file, (config) => {
    const helpers = config.credHelpers;
    if (helpers?.[registry] !== helper) return 'absent';
    delete helpers[registry];
    if (Object.keys(helpers).length === 0) delete config.credHelpers;
    return 'removed';
  });
}

/** The `credHelpers` map as docker would read it; empty when the file does not exist. */
export async function readCredentialHelpers(file: HelperFile): Promise<Record<string, string>> {
  const {config} = await loadDockerConfig(file);
  return {...config.credHelpers};
}

async function changeDockerConfig<Outcome>(file: HelperFile, change: (config: DockerConfig) => Outcome): Promise<Outcome> {
  const release = await lockFile(file.path);
  try {
    const {config, exists, order} = await loadDockerConfig(file);
    const before = formatLikeDocker(file.path, config, order);
    const outcome = change(config);
    const after = formatLikeDocker(file.path, config, order);
    if (after !== before) await saveDockerConfig(file, after, exists);
    return outcome;
  } finally {
    await release();
  }
}

/** `order`: the top-level keys as the file lists them (the object itself lists integer-like keys first). */
async function loadDockerConfig(file: HelperFile): Promise<{config: DockerConfig; exists: boolean; order: string[]}> {
  let text: string;
  try {
    text = await readFile(file.path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {config: {}, exists: false, order: []};
    throw new HubError(`Cannot read ${file.path}: ${(error as Error).message}`, {cause: error});
  }
  const config = parseDockerConfig(file, text);
  return {config, exists: true, order: Object.keys(config).length > 0 ? topLevelKeys(text) : []};
}

/**
 * The top-level keys of JSON text that JSON.parse has accepted, in the order written, each once
 * (where it first appears, as the parsed object has it). Needed because a JavaScript object lists
 * integer-like keys ("1") before all others, whatever the file said.
 */
export function topLevelKeys(text: string): string[] {
  const keys = new Set<string>();
  const colon = /\s*:/y;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const character = text[i];
    if (character === '{' || character === '[') depth++;
    else if (character === '}' || character === ']') depth--;
    else if (character === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      colon.lastIndex = i + 1;
      if (depth === 1 && colon.test(text)) keys.add(JSON.parse(text.slice(start, i + 1)) as string);
    }
  }
  return [...keys];
}

function parseDockerConfig(file: HelperFile, text: string): DockerConfig {
  // docker's decoder reports an empty or blank file as EOF and carries on with an empty config.
  if (/^[ \t\r\n]*$/.test(text)) return {};
  let data: unknown;
  try {
    data = JSON.parse(text, refuseUnrepresentableNumbers);
  } catch (error) {
    throw corruptDockerConfig(file, `it is not JSON ${file.tool} can read: ${(error as Error).message}`);
  }
  if (!isRecord(data)) throw corruptDockerConfig(file, 'its top level is not a JSON object');
  if (data.credHelpers !== undefined && !isStringMap(data.credHelpers)) {
    throw corruptDockerConfig(file, '"credHelpers" is not an object whose values are all strings');
  }
  return data as DockerConfig;
}

/** Go's decoder refuses a number beyond float64; JavaScript would turn it into Infinity and write `null`. */
function refuseUnrepresentableNumbers(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('a number is too large for a float64');
  return value;
}

function isStringMap(value: unknown): value is Record<string, string> {
  return isRecord(value) && Object.values(value).every((entry) => typeof entry === 'string');
}

/**
 * docker saves with Go's `json.MarshalIndent(cfg, "", "\t")`, which also escapes `<`, `>`, `&`,
 * U+2028 and U+2029. Those characters can only occur inside strings in JSON text, so escaping them
 * in the whole output is safe, and a file docker wrote comes back byte for byte.
 */
function formatLikeDocker(file: string, config: DockerConfig, order: readonly string[]): string {
  // The top level by hand, in the order read and then any key hub added: JSON.stringify would put
  // integer-like keys first. Below it, JSON.stringify's own layout, one tab deeper.
  const keys = [...order.filter((key) => Object.hasOwn(config, key)), ...Object.keys(config).filter((key) => !order.includes(key))];
  const members = keys.map((key) => `\t${JSON.stringify(key)}: ${stringifyOrRefuse(file, config[key], '\t').replaceAll('\n', '\n\t')}`);
  const text = members.length === 0 ? '{}' : `{\n${members.join(',\n')}\n}`;
  return text.replace(/[<>&\u2028\u2029]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

async function saveDockerConfig(file: HelperFile, text: string, exists: boolean): Promise<void> {
  // Loaded here: a push or pull reads docker's config, and only login and logout write it.
  const {default: writeFileAtomic} = await import('write-file-atomic');
  try {
    // Without `mode`, write-file-atomic gives the new file the old one's mode and owner, as docker
    // does; a file hub creates may hold credentials one day, so it starts private.
    await writeFileAtomic(file.path, text, exists ? {} : {mode: 0o600});
  } catch (error) {
    throw new HubError(`Cannot write ${file.path}: ${(error as Error).message}`, {
      cause: error,
      suggestions: [`Check that you own ${file.path} and its folder (a \`sudo ${file.tool} login\` can leave them owned by root).`],
    });
  }
}

function corruptDockerConfig(file: HelperFile, detail: string): HubError {
  return new HubError(`${file.title} ${file.path} is not valid (${detail}); hub left it untouched.`, {
    code: 'corrupt_file',
    suggestions: [`Fix ${file.path} by hand (${file.tool} reads it too, so do not just delete it), then try again.`],
  });
}
