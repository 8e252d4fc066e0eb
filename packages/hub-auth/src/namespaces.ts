import {isRepositoryPathComponent} from '@hub/protocol/repository-name';

/**
 * Who owns which top-level name of the registry. Users own the namespace named after their
 * account; groups and robots live under prefixes of their own that no user can be called, so a
 * user named like a group or a robot's client id never gets its namespace. Robots of workload
 * issuers (CI jobs, pods: workloads/) are `workloads/<issuer name>/<robot name>`.
 */
export const GROUPS_NAMESPACE = 'groups';
export const ROBOTS_NAMESPACE = 'robots';
export const WORKLOADS_NAMESPACE = 'workloads';
export const LIBRARY_NAMESPACE = 'library';
export const PUBLIC_NAMESPACE = 'public';

/** Never an account: the prefixes above. An operator adds more with `accounts.reservedNames`. */
export const BUILT_IN_RESERVED_NAMES: readonly string[] = [
  GROUPS_NAMESPACE,
  ROBOTS_NAMESPACE,
  WORKLOADS_NAMESPACE,
  LIBRARY_NAMESPACE,
  PUBLIC_NAMESPACE,
];

/** So that `<name>/<repository>` stays well inside distribution's 255 characters. */
const MAX_NAME_LENGTH = 64;

/** Why a name from the identity provider cannot name a namespace as it is, or undefined when it can. */
export function namespaceNameProblem(name: string): string | undefined {
  if (name.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  if (!isRepositoryPathComponent(name))
    return 'is not a repository path component (lower-case letters and digits, joined by single ".", "_", "__" or runs of "-")';
  return undefined;
}
