import js from '@eslint/js';
import {fileURLToPath} from 'node:url';
import tseslint from 'typescript-eslint';
import {startUpPathRule} from './scripts/lint/start-up-path.js';

const ROOT = fileURLToPath(new URL('.', import.meta.url));

/**
 * The layers of the CLI, outermost first. A module imports from its own layer and the layers
 * below it, never from one above: the entry points start commands, commands call flows, flows use
 * the adapters (provider, browser, docker, registry, stores, files). context.ts, the one place
 * that builds the adapters for every entry point, sits between flows and adapters. session/ runs a
 * session's life (read, refresh, identity token, save) for the flows and for docker-credential-hub,
 * which answers docker without any flow: both entry and flows use it, and it works through the
 * context's stores, clock and network, so it sits between flows and context.
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
const SESSION = ['src/session/**'];
const CONTEXT = ['src/context.ts'];
const ADAPTERS = ['src/auth/**', 'src/config/**', 'src/docker/**', 'src/registry/**', 'src/store/**', 'src/files/**', 'src/io/**'];

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
  'src/session/build.ts',
  'src/session/credentials.ts',
  'src/session/environment-token.ts',
  'src/session/identity-token.ts',
  'src/session/refresh.ts',
  'src/auth/display.ts',
  'src/auth/jwt-claims.ts',
  'src/config/paths.ts',
  'src/config/registry-host.ts',
  'src/config/settings.ts',
  'src/registry/registry.ts',
  'packages/common/src/errors.ts',
  'packages/common/src/atomic-json-file.ts',
  'packages/common/src/file-lock.ts',
  'packages/common/src/json-shape.ts',
  'packages/common/src/net/loopback.ts',
  'packages/protocol/src/default-scopes.ts',
  'packages/protocol/src/registry-audience.ts',
  'src/io/stdin.ts',
  'src/io/terminal-text.ts',
  'src/store/insecure-file.ts',
  'src/store/keychain.ts',
  'src/store/session.ts',
];

/**
 * An import of a module under one of these folders or files (relative specifiers, as src uses).
 * A name ending in `/` is a folder only: `session/` is src/session, not store/session.ts.
 */
const escaped = (name) => name.replaceAll('.', '\\.').replaceAll('/', '\\/');
const into = (...names) => ({
  regex: `(^|/)(${names.map((n) => (n.endsWith('/') ? escaped(n) : `${escaped(n)}($|/|\\.js$)`)).join('|')})`,
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
  {files: SESSION, above: [...ENTRY_NAMES, ...COMMAND_NAMES, 'flows', 'doctor']},
  {files: CONTEXT, above: [...ENTRY_NAMES, ...COMMAND_NAMES, 'flows', 'doctor', 'session/']},
  {files: ADAPTERS, ignores: ENTRY, above: [...ENTRY_NAMES, ...COMMAND_NAMES, 'flows', 'doctor', 'session/', 'context']},
];

export default tseslint.config(
  {ignores: ['dist/**', 'packages/*/dist/**', 'node_modules/**', 'coverage/**', '.tmp/**']},
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
              group: ['hub-auth', 'hub-auth/*', '**/packages/**'],
              message:
                'the CLI imports nothing from hub-auth: what both must agree on lives in @hub/protocol, what both run on in @hub/common',
            },
          ],
        },
      ],
    },
  })),
  // A package's sources reach other packages by name only: from packages/X/src/*.ts one `../`
  // leaves the sources, from packages/X/src/Y/*.ts two. The shared packages import no program.
  ...['packages/*/src/*.ts', 'packages/*/src/*/*.ts'].map((files, depth) =>
    restrict(
      [files],
      [{regex: `^(\\.\\./){${depth + 1}}`}, {group: ['hub-auth', 'hub-auth/*', '@hub/test-stack/*']}],
      'a package imports other packages by name (@hub/protocol, @hub/common), never the CLI, hub-auth or a path outside itself',
    ),
  ),
  {
    files: ['src/**/*.ts'],
    plugins: {hub: {rules: {'start-up-path': startUpPathRule(ROOT, START_UP_PATH)}}},
    rules: {'hub/start-up-path': 'error'},
  },
);
