import js from '@eslint/js';
import {fileURLToPath} from 'node:url';
import tseslint from 'typescript-eslint';
import {startUpPathRule} from './scripts/lint/start-up-path.js';

const ROOT = fileURLToPath(new URL('.', import.meta.url));

/**
 * The layers of the CLI, outermost first. A module imports from its own layer and the layers
 * below it, never from one above: the entry points start commands, commands call flows, flows use
 * the adapters (provider, browser, docker, registry, stores, files). context.ts, the one place
 * that builds the adapters for every entry point, sits between flows and adapters.
 */
const ENTRY = ['src/start.ts', 'src/cli.ts', 'src/fast-path.ts', 'src/code-cache.ts', 'src/docker/credential-helper-main.ts'];
const COMMANDS = [
  'src/commands/**',
  'src/base-command.ts',
  'src/transfer-command.ts',
  'src/command-not-found.ts',
  'src/error-output.ts',
  'src/usage-error.ts',
];
const FLOWS = ['src/flows/**', 'src/doctor/**'];
const CONTEXT = ['src/context.ts'];
const ADAPTERS = [
  'src/auth/**',
  'src/config/**',
  'src/docker/**',
  'src/registry/**',
  'src/store/**',
  'src/files/**',
  'src/io/**',
  'src/net/**',
  'src/errors.ts',
];

/** What hub and hub-auth share: the wire contract, and small utilities that are neither's own. */
const SHARED = ['src/protocol/**', 'src/files/**', 'src/net/**', 'src/errors.ts'];

/**
 * What docker-credential-hub and the fast path load before they answer (found from their entry
 * points by following value imports; see scripts/lint/start-up-path.js).
 */
const START_UP_PATH = [
  'src/start.ts',
  'src/code-cache.ts',
  'src/fast-path.ts',
  'src/docker/credential-helper-main.ts',
  'src/docker/credential-helper.ts',
  'src/context.ts',
  'src/flows/status.ts',
  'src/auth/display.ts',
  'src/auth/environment-token.ts',
  'src/auth/jwt-claims.ts',
  'src/auth/session.ts',
  'src/config/paths.ts',
  'src/config/registry-host.ts',
  'src/config/settings.ts',
  'src/errors.ts',
  'src/files/atomic-json-file.ts',
  'src/files/file-lock.ts',
  'src/files/json-shape.ts',
  'src/io/stdin.ts',
  'src/io/terminal-text.ts',
  'src/store/insecure-file.ts',
  'src/store/keychain.ts',
  'src/store/session.ts',
];

/** SHARED as a regular expression of paths relative to src. */
const SHARED_OUTSIDE = SHARED.map((s) =>
  s
    .replace(/^src\//, '')
    .replace(/\*\*$/, '')
    .replace(/\.ts$/, '.js')
    .replaceAll('.', '\\.')
    .replaceAll('/', '\\/'),
).join('|');

/** An import of a module under one of these folders or files (relative specifiers, as src uses). */
const into = (...names) => ({
  regex: `(^|/)(${names.map((n) => n.replaceAll('.', '\\.').replaceAll('/', '\\/')).join('|')})($|/|\\.js$)`,
});
const UPWARD = 'imports upward: commands → flows → adapters (eslint.config.js says which module is in which layer)';
const restrict = (files, patterns, message) => ({
  files,
  rules: {'@typescript-eslint/no-restricted-imports': ['error', {patterns: patterns.map((p) => ({...p, message}))}]},
});

/**
 * Each layer with what lies above it, in one block per layer: ESLint replaces (does not merge) a
 * rule's options when two blocks match a file.
 */
const ENTRY_NAMES = ['cli', 'start', 'fast-path', 'code-cache', 'credential-helper-main'];
const COMMAND_NAMES = ['commands', 'base-command', 'transfer-command', 'command-not-found', 'error-output', 'usage-error'];
const LAYERS = [
  {files: ENTRY, above: []},
  {files: COMMANDS, above: ENTRY_NAMES},
  {files: FLOWS, above: [...ENTRY_NAMES, ...COMMAND_NAMES]},
  {files: CONTEXT, above: [...ENTRY_NAMES, ...COMMAND_NAMES, 'flows', 'doctor']},
  {files: ADAPTERS, ignores: ENTRY, above: [...ENTRY_NAMES, ...COMMAND_NAMES, 'flows', 'doctor', 'context']},
];

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tmp/**']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {ecmaVersion: 2023, sourceType: 'module', globals: {process: 'readonly', console: 'readonly'}},
    rules: {
      // TypeScript's own checks (noUnused… in tsc, strict) cover these better.
      'no-undef': 'off',
      // hub strips terminal control characters from remote text: its patterns name them on purpose.
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_'},
      ],
    },
  },
  {files: ['bin/*.cjs'], languageOptions: {sourceType: 'commonjs'}, rules: {'@typescript-eslint/no-require-imports': 'off'}},
  ...LAYERS.map(({files, ignores = [], above}) => ({
    files,
    ignores,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            ...(above.length > 0 ? [{...into(...above), message: UPWARD}] : []),
            {
              ...into('token-service'),
              message: 'the CLI imports nothing from hub-auth (src/token-service): what both must agree on lives in src/protocol',
            },
          ],
        },
      ],
    },
  })),
  // From src/token-service/*.ts one `../` leaves hub-auth, from src/token-service/routes/*.ts two.
  ...['src/token-service/*.ts', 'src/token-service/routes/*.ts'].map((files, depth) =>
    restrict(
      [files],
      [{regex: `^(\\.\\./){${depth + 1}}(?!${SHARED_OUTSIDE})`}],
      'hub-auth imports nothing from the CLI: only src/protocol and the shared utilities (SHARED in eslint.config.js)',
    ),
  ),
  {
    files: ['src/**/*.ts'],
    plugins: {hub: {rules: {'start-up-path': startUpPathRule(ROOT, START_UP_PATH)}}},
    rules: {'hub/start-up-path': 'error'},
  },
);
