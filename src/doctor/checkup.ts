import {causeChain, HubError, rootMessage} from '@hub/common/errors';

/** The links between hub and a registry, in the order `hub doctor` walks them. */
export const CHECK_NAMES = [
  'config',
  'keychain',
  'identity provider',
  'session',
  'hub-auth',
  'registry',
  'Docker engine',
  'docker credential helper',
  'podman credential helper',
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export interface CheckResult {
  name: CheckName;
  ok: boolean;
  /** What was found, in words; never a token. */
  detail: string;
  /** What to do about it, for a check that failed. */
  fix?: string;
}

/** What a check that passed found, and what later checks may build on. */
export interface Passed<T> {
  detail: string;
  value?: T;
}

/** A broken link, said the way doctor shows it, with what to do about it. */
export class CheckFailed extends Error {
  constructor(
    readonly detail: string,
    readonly fix?: string,
  ) {
    super(detail);
    this.name = 'CheckFailed';
  }
}

/** For a check that cannot run because one it builds on did not pass. */
export function skipped(needs: CheckName): CheckFailed {
  return new CheckFailed(`skipped: needs ${needs}`);
}

/**
 * Runs the checks one after another, shows each as soon as it is known (a check may wait for a
 * timeout, and the person should see how far doctor got), and keeps them for `--json`.
 */
export class Checkup {
  readonly results: CheckResult[] = [];

  constructor(private readonly say: (line: string) => void) {}

  /**
   * What the check found when it passed; undefined when it failed or was skipped. The check is
   * called inside the try, so a `need` it throws synchronously is a result like any other.
   */
  async run<T>(name: CheckName, check: () => Promise<Passed<T>>): Promise<T | undefined> {
    let result: CheckResult;
    let value: T | undefined;
    try {
      const passed = await check();
      value = passed.value;
      result = {name, ok: true, detail: passed.detail};
    } catch (error) {
      result = {name, ok: false, ...describeFailure(error)};
    }
    this.results.push(result);
    for (const line of formatCheck(result)) this.say(line);
    return value;
  }

  /** Throws the "skipped" failure unless the named check passed; hands back what it found. */
  need(name: CheckName): void;
  need<T>(name: CheckName, value: T | undefined): T;
  need<T>(name: CheckName, value?: T): T | undefined {
    if (!this.results.some((result) => result.name === name && result.ok)) throw skipped(name);
    return value;
  }
}

function formatCheck(result: CheckResult): string[] {
  const line = `${result.ok ? '✓' : '✗'} ${result.name}: ${result.detail}`;
  return result.fix ? [line, `  → ${result.fix}`] : [line];
}

function describeFailure(error: unknown): {detail: string; fix?: string} {
  if (error instanceof CheckFailed) return error.fix ? {detail: error.detail, fix: error.fix} : {detail: error.detail};
  if (error instanceof HubError) {
    const detail = withoutFinalPeriod(error.message);
    return error.suggestions.length > 0 ? {detail, fix: error.suggestions.join(' ')} : {detail};
  }
  return {detail: rootMessage(error)};
}

export function withoutFinalPeriod(text: string): string {
  return text.replace(/\.$/, '');
}

/**
 * Why a network call got no answer, as short as a person needs it: the system's error code
 * (ECONNREFUSED, ENOTFOUND, a TLS code) from deep in the cause chain, where fetch and hub's own
 * errors wrap it.
 */
export function networkReason(error: unknown): string {
  const chain = causeChain(error);
  if (chain.some((e) => e.name === 'TimeoutError')) return 'timed out';
  // hub's own codes are lower case ('unreachable'); the system's are upper case.
  const code = chain
    .map((e) => (e as {code?: unknown}).code)
    .reverse()
    .find((c): c is string => typeof c === 'string' && /^[A-Z][A-Z0-9_]+$/.test(c));
  return code ?? rootMessage(error);
}
