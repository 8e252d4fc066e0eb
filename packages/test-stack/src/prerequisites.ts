import {findProgram} from '@hub/common/find-program';

/** Programs the end-to-end suites run for real; `.ci/run` installs them. */
export const E2E_PROGRAMS = ['dbus-daemon', 'dbus-send', 'gnome-keyring-daemon', 'secret-tool', 'chromium'];

export function missingPrograms(programs: string[] = E2E_PROGRAMS): string[] {
  return programs.filter((program) => !findProgram(program));
}

/**
 * Whether to run an end-to-end suite. Locally a missing program skips it; in CI (CI=true) the
 * suite runs and fails on the missing program, so a broken CI machine cannot pass quietly.
 */
export function e2eEnabled(programs: string[] = E2E_PROGRAMS): boolean {
  return missingPrograms(programs).length === 0 || process.env.CI === 'true';
}

export function assertPrograms(programs: string[] = E2E_PROGRAMS): void {
  const missing = missingPrograms(programs);
  if (missing.length > 0)
    throw new Error(`missing programs for the end-to-end tests: ${missing.join(', ')} (bash scripts/setup.sh installs them)`);
}
