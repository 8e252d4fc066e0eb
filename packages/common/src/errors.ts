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

/**
 * The machine-readable codes of hub's errors (`--json` output, and what callers compare): one
 * list, so that a misspelt code is a type error rather than a branch that never runs.
 */
export type HubErrorCode =
  | 'access_denied'
  | 'account_required'
  | 'cancelled'
  | 'client_credentials_refused'
  | 'corrupt_file'
  | 'denied'
  | 'device_flow_failed'
  | 'device_flow_unsupported'
  | 'docker_context_not_found'
  | 'docker_tls_unreadable'
  | 'empty_stdin'
  | 'engine_unreachable'
  | 'expired_token'
  | 'failure'
  | 'folder_unwritable'
  | 'foreign_link'
  | 'insecure_realm'
  | 'insecure_web_hub'
  | 'invalid_argument'
  | 'invalid_browser'
  | 'invalid_credential_provider_request'
  | 'invalid_docker_config'
  | 'invalid_docker_context'
  | 'invalid_docker_host'
  | 'invalid_flag_value'
  | 'invalid_flags'
  | 'invalid_issuer'
  | 'invalid_proxy'
  | 'invalid_reference'
  | 'invalid_registry'
  | 'invalid_scope'
  | 'invalid_settings'
  | 'issuer_mismatch'
  | 'issuer_required'
  | 'issuer_unconfirmed'
  | 'keychain_damaged'
  | 'keychain_unavailable'
  | 'login_timeout'
  | 'loopback_unavailable'
  | 'missing_argument'
  | 'missing_code'
  | 'no_id_token'
  | 'no_service_account_token'
  | 'no_such_image'
  | 'no_web_hub'
  | 'not_a_registry'
  | 'not_hub_registry'
  | 'not_logged_in'
  | 'not_token_auth'
  | 'provider_error'
  | 'provider_invalid'
  | 'provider_unreachable'
  | 'pull_failed'
  | 'pull_interrupted'
  | 'push_failed'
  | 'push_interrupted'
  | 'refresh_failed'
  | 'registry_error'
  | 'registry_not_found'
  | 'registry_required'
  | 'repository_unknown'
  | 'revocation_failed'
  | 'session_ended'
  | 'sign_in_link_reused'
  | 'stdin_is_terminal'
  | 'token_file_unreadable'
  | 'token_for_other_registry'
  | 'token_refused'
  | 'token_response_invalid'
  | 'token_service_error'
  | 'unaddressable_registry'
  | 'unauthorized'
  | 'unexpected_argument'
  | 'unknown_command'
  | 'unknown_flag'
  | 'unreachable'
  | 'unsafe_debug_output'
  | 'unsupported_docker_host'
  | 'usage';

export interface HubErrorOptions {
  exit?: number;
  suggestions?: string[];
  /** A stable machine-readable code, shown in `--json` output. */
  code?: HubErrorCode;
  cause?: unknown;
}

export class HubError extends Error {
  readonly exit: number;
  readonly suggestions: string[];
  readonly code: HubErrorCode;

  constructor(message: string, options: HubErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause});
    this.name = 'HubError';
    this.exit = options.exit ?? ExitCode.failure;
    this.suggestions = options.suggestions ?? [];
    this.code = options.code ?? 'failure';
  }
}

/** An error and the errors it was caused by, outermost first (a cause that comes round again ends it). */
export function causeChain(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let current = error; current instanceof Error && !chain.includes(current); current = current.cause) chain.push(current);
  return chain;
}

/** A network failure worth retrying, as opposed to an answer that says no. */
export function isTransientNetworkError(error: unknown): boolean {
  return causeChain(error).some((current) => {
    const code = (current as {code?: unknown}).code;
    return (
      current.name === 'TimeoutError' ||
      current.name === 'AbortError' ||
      (typeof code === 'string' &&
        /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|UND_ERR_\w+)$/.test(code)) ||
      (current instanceof TypeError && current.message === 'fetch failed')
    );
  });
}

/** The innermost message of a cause chain, which is usually the one that says what happened. */
export function rootMessage(error: unknown): string {
  const root = causeChain(error).at(-1);
  return root ? root.message : String(error);
}

export function notLoggedIn(registry: string): HubError {
  return new HubError(`You are not logged in to ${registry}.`, {
    code: 'not_logged_in',
    suggestions: [`Run \`hub login ${registry}\`; \`hub status\` lists the registries hub is logged in to.`],
  });
}
