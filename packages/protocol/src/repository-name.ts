/**
 * Repository names as distribution's reference grammar defines them: components separated by "/".
 * hub checks the images a user names against it; hub-auth the scopes a registry client asks for.
 */

/** distribution's NameTotalLengthMax: the whole name, with a domain where there is one. */
export const MAX_REPOSITORY_NAME_LENGTH = 255;

/**
 * distribution's path component, `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`, with `[-]*` written
 * `-+`: the same language (an empty separator only joins two alphanumeric runs), but without the
 * ambiguity that makes a backtracking engine take exponential time on `aaaa…a!`.
 */
export const REPOSITORY_PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/**
 * A repository path as a token scope names it: components separated by '/', with no registry
 * host in front. The component grammar rules out upper case, '..', and empty components.
 */
export function isValidRepositoryName(name: string): boolean {
  return name.length <= MAX_REPOSITORY_NAME_LENGTH && name.split('/').every(isRepositoryPathComponent);
}

/** One component of a repository path, exactly as distribution's grammar has it (lower case). */
export function isRepositoryPathComponent(text: string): boolean {
  return REPOSITORY_PATH_COMPONENT.test(text);
}

/** distribution's tag grammar: a word character, then up to 127 of word characters, '.' and '-'. */
export const TAG_PATTERN = /^\w[\w.-]{0,127}$/;
