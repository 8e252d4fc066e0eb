import {ExitCode, HubError} from '@hub/common/errors';
import {DIGEST_HEX_LENGTHS} from '@hub/protocol/digest';
import {isRepositoryPathComponent, MAX_REPOSITORY_NAME_LENGTH, TAG_PATTERN} from '@hub/protocol/repository-name';

/**
 * An image reference split the way distribution/reference splits it: `[domain/]path[:tag][@digest]`.
 * `path` is the repository path without the domain, e.g. `team/app`.
 */
export interface ImageReference {
  domain?: string;
  path: string;
  tag?: string;
  digest?: string;
}

// Every pattern below is anchored and applied to one component at a time; none nests a quantifier
// inside a repetition whose pieces can match the same text, so matching stays linear on long input.
const domainLabel = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const ipv6Host = /^\[[a-fA-F0-9:]+\]$/;
const port = /^[0-9]+$/;
const digestAlgorithm = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*$/;

const example = 'myapp:1.0, team/myapp:1.0 or registry.example.com/team/myapp@sha256:<64 hex digits>';

export function parseImageReference(input: string): ImageReference {
  if (input === '') throw invalidReference(input, 'it is empty');
  const {rest: beforeDigest, suffix: digest} = splitSuffix(input, input.indexOf('@'));
  const {rest: name, suffix: tag} = splitSuffix(beforeDigest, tagSeparatorIndex(beforeDigest));
  if (name.length > MAX_REPOSITORY_NAME_LENGTH) {
    throw invalidReference(input, `the name is ${name.length} characters long; the limit is ${MAX_REPOSITORY_NAME_LENGTH}`);
  }
  if (name === '') throw invalidReference(input, 'it has no repository name');
  const components = name.split('/');
  const domain = components.length > 1 && looksLikeDomain(components[0]!) ? components.shift() : undefined;
  if (domain !== undefined) checkDomain(input, domain);
  components.forEach((component) => checkPathComponent(input, component));
  if (tag !== undefined) checkTag(input, tag);
  if (digest !== undefined) checkDigest(input, digest);
  return {
    ...(domain === undefined ? {} : {domain}),
    path: components.join('/'),
    ...(tag === undefined ? {} : {tag}),
    ...(digest === undefined ? {} : {digest}),
  };
}

export function formatImageReference(ref: ImageReference): string {
  const name = ref.domain === undefined ? ref.path : `${ref.domain}/${ref.path}`;
  return name + (ref.tag === undefined ? '' : `:${ref.tag}`) + (ref.digest === undefined ? '' : `@${ref.digest}`);
}

export interface QualifiedReference {
  /** The reference as the person wrote it: the local image to tag from. */
  local: string;
  /** Where the image goes, with the registry filled in and the tag defaulted. */
  remote: ImageReference;
  /** `domain/path`, the repository in the registry. */
  remoteName: string;
  /** `latest` when none is given; empty when the reference pins a digest and names no tag. */
  tag: string;
}

/**
 * What `hub push myapp:1.0` means: a bare name goes under the person's account in the registry,
 * a path (`team/app`) goes to that path in the registry, and a reference with a domain is taken
 * as written.
 */
export function qualifyReference(input: string, registry: string, account: string): QualifiedReference {
  const parsed = parseImageReference(input);
  const tag = parsed.tag ?? (parsed.digest === undefined ? 'latest' : '');
  const withTag: ImageReference = {...parsed, ...(tag === '' ? {} : {tag})};
  const remote = parsed.domain === undefined ? underRegistry(withTag, registry, account) : withTag;
  return {local: input, remote, remoteName: `${remote.domain}/${remote.path}`, tag};
}

/** Re-parses the qualified text so that an account or registry unfit for a reference is caught here. */
function underRegistry(ref: ImageReference, registry: string, account: string): ImageReference {
  const path = ref.path.includes('/') ? ref.path : `${account}/${ref.path}`;
  const qualified = parseImageReference(formatImageReference({...ref, domain: registry, path}));
  if (qualified.domain !== registry) {
    throw new HubError(
      `Docker cannot address the registry "${registry}": in an image reference it would be read as part of the repository path.`,
      {
        code: 'unaddressable_registry',
        suggestions: [
          'Docker only takes the first part of a reference as a registry when it contains "." or ":" or is "localhost"; use the registry\'s full host name, e.g. registry.example.com or myhost:5000.',
        ],
      },
    );
  }
  return qualified;
}

function splitSuffix(text: string, at: number): {rest: string; suffix?: string} {
  return at === -1 ? {rest: text} : {rest: text.slice(0, at), suffix: text.slice(at + 1)};
}

/** A ':' is a tag separator only after the last '/'; before it, it belongs to a domain's port. */
function tagSeparatorIndex(name: string): number {
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? colon : -1;
}

function looksLikeDomain(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

function checkDomain(input: string, domain: string): void {
  const {rest: host, suffix: portText} = splitSuffix(domain, portSeparatorIndex(domain));
  const hostValid = host.startsWith('[') ? ipv6Host.test(host) : host.split('.').every((label) => domainLabel.test(label));
  if (!hostValid) throw invalidReference(input, `the registry host "${host}" is not a valid host name or [IPv6] address`);
  if (portText !== undefined && !port.test(portText)) {
    throw invalidReference(input, `the registry port "${portText}" is not a number`);
  }
}

/** The colons inside an IPv6 literal belong to the address; only one after the ']' starts a port. */
function portSeparatorIndex(domain: string): number {
  const at = domain.startsWith('[') ? domain.indexOf(']') + 1 : domain.indexOf(':');
  return at > 0 && domain[at] === ':' ? at : -1;
}

function checkPathComponent(input: string, component: string): void {
  if (isRepositoryPathComponent(component)) return;
  if (component === '') throw invalidReference(input, 'it has an empty path component (a leading, trailing or doubled "/")');
  if (/[A-Z]/.test(component)) throw invalidReference(input, 'it contains uppercase letters; repository names must be lowercase');
  if (!/^[a-z0-9]/.test(component) || !/[a-z0-9]$/.test(component)) {
    throw invalidReference(input, `the path component "${component}" must start and end with a lowercase letter or digit`);
  }
  throw invalidReference(
    input,
    `the path component "${component}" may only contain lowercase letters and digits, separated by ".", "_", "__" or dashes`,
  );
}

function checkTag(input: string, tag: string): void {
  if (tag === '') throw invalidReference(input, 'the tag after ":" is empty');
  if (tag.length > 128) throw invalidReference(input, `the tag is ${tag.length} characters long; the limit is 128`);
  if (!TAG_PATTERN.test(tag)) {
    throw invalidReference(
      input,
      `the tag "${tag}" must start with a letter, digit or "_" and contain only letters, digits, "_", "." and "-"`,
    );
  }
}

function checkDigest(input: string, digest: string): void {
  const {rest: algorithm, suffix: hex} = splitSuffix(digest, digest.indexOf(':'));
  if (hex === undefined || !digestAlgorithm.test(algorithm)) {
    throw invalidReference(input, `the digest "${digest}" is not of the form algorithm:hex, e.g. sha256:<64 hex digits>`);
  }
  const length = DIGEST_HEX_LENGTHS.get(algorithm);
  if (length === undefined) throw invalidReference(input, `the digest algorithm "${algorithm}" is not supported; use sha256`);
  if (hex.length !== length || !/^[a-f0-9]*$/.test(hex)) {
    throw invalidReference(input, `a ${algorithm} digest must be ${length} lowercase hexadecimal characters`);
  }
}

function invalidReference(input: string, why: string): HubError {
  return new HubError(`Invalid image reference "${input}": ${why}.`, {
    exit: ExitCode.usage,
    code: 'invalid_reference',
    suggestions: [`Write the reference as [registry/][path/]name[:tag][@digest], e.g. ${example}.`],
  });
}
