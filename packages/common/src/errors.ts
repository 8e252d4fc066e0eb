/**
 * User-facing failures. Every error hub shows a person is a HubError: a message that names what
 * went wrong, the exit code, and what to do next. Anything else reaching the top is a bug.
 */
export const ExitCode = {
  failure: 1,
  usage: 2,
  /** The session exists but cannot be used (expired, revoked): `hub status`, `hub token`. */
  unusableSession: 1,
  cancelled: 130,
} as const;

export interface HubErrorOptions {
  exit?: number;
  suggestions?: string[];
  /** A stable machine-readable code, shown in `--json` output. */
  code?: string;
  cause?: unknown;
}

export class HubError extends Error {
  readonly exit: number;
  readonly suggestions: string[];
  readonly code: string;

  constructor(message: string, options: HubErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HubError';
    this.exit = options.exit ?? ExitCode.failure;
    this.suggestions = options.suggestions ?? [];
    this.code = options.code ?? 'failure';
  }
}

/** A network failure worth retrying, as opposed to an answer that says no. */
export function isTransientNetworkError(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (
      current.name === 'TimeoutError' ||
      current.name === 'AbortError' ||
      (typeof code === 'string' &&
        /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|UND_ERR_\w+)$/.test(code))
    ) {
      return true;
    }
    if (current instanceof TypeError && current.message === 'fetch failed') return true;
    current = current.cause;
  }
  return false;
}

/** The innermost message of a cause chain, which is usually the one that says what happened. */
export function rootMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

export function notLoggedIn(registry: string): HubError {
  return new HubError(`You are not logged in to ${registry}.`, {
    code: 'not_logged_in',
    suggestions: [`Run \`hub login ${registry}\`; \`hub status\` lists the registries hub is logged in to.`],
  });
}
