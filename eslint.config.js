import js from '@eslint/js';
import {fileURLToPath} from 'node:url';
import tseslint from 'typescript-eslint';
import {startUpPathRule} from './scripts/lint/start-up-path.js';

const ROOT = fileURLToPath(new URL('.', import.meta.url));

/**
 * The layers of the CLI, outermost first. A module imports from its own layer and the layers
 * below it, never from one above: the entry points start commands, commands call flows, flows use
 * the adapters (provider, browser, config, docker, registry, stores, io). context.ts, the one place
 * that builds the adapters for every entry point, sits between flows and adapters. session/ runs a
 * session's life (read, refresh, identity token, save) for the flows and for docker-credential-hub,
 * which answers docker without any flow: both entry and flows use it, and it works through the
 * context's stores, clock and network, so it sits between flows and context.
 */
const ENTRY = [
  'src/start.ts',
  'src/cli.ts',
  'src/fast-path.ts',
  'src/code-cache.ts',
  'src/docker/credential-helper-main.ts',
  'src/kubelet/credential-provider-main.ts',
];
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
const ADAPTERS = ['src/auth/**', 'src/config/**', 'src/docker/**', 'src/kubelet/**', 'src/registry/**', 'src/store/**', 'src/io/**'];

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
  'src/session/accounts.ts',
  'src/session/build.ts',
  'src/session/credentials.ts',
  'src/session/environment-token.ts',
  'src/session/identity-token.ts',
  'src/session/refresh.ts',
  'src/auth/display.ts',
  'src/auth/jwt-claims.ts',
  'src/config/accounts.ts',
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
  'packages/protocol/src/identity-token.ts',
  'packages/protocol/src/registry-audience.ts',
  'src/io/program-error.ts',
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
const restrict = (files, patterns) => ({files, rules: {'@typescript-eslint/no-restricted-imports': ['error', {patterns}]}});

/**
 * Each layer with what lies above it, in one block per layer: ESLint replaces (does not merge) a
 * rule's options when two blocks match a file.
 */
const ENTRY_NAMES = ['cli', 'start', 'fast-path', 'code-cache', 'credential-helper-main', 'credential-provider-main'];
const COMMAND_NAMES = ['commands', 'base-command', 'transfer-command', 'command-not-found', 'error-output', 'usage-error'];
const LAYERS = [
  {files: ENTRY, above: []},
  {files: COMMANDS, above: ENTRY_NAMES},
  {files: FLOWS, above: [...ENTRY_NAMES, ...COMMAND_NAMES]},
  {files: SESSION, above: [...ENTRY_NAMES, ...COMMAND_NAMES, 'flows', 'doctor']},
  {files: CONTEXT, above: [...ENTRY_NAMES, ...COMMAND_NAMES, 'flows', 'doctor', 'session/']},
  {files: ADAPTERS, ignores: ENTRY, above: [...ENTRY_NAMES, ...COMMAND_NAMES, 'flows', 'doctor', 'session/', 'context']},
];

/**
 * What keeps a package to itself, for a module `depth` folders below its src/ (sources sit at
 * most two folders deep): one `../` more than that leaves the sources. The shared packages import
 * no program.
 */
const PACKAGE_DEPTHS = [0, 1, 2];
const APART =
  'a package imports other packages by name (@hub/protocol, @hub/common, the web hub by its entry @hub/web only), never the CLI, hub-auth or a path outside itself';
const packageApart = (depth) => [
  {regex: `^(\\.\\./){${depth + 1}}`, message: APART},
  {group: ['hub-auth', 'hub-auth/*', '@hub/test-stack/*', '@hub/web/*'], message: APART},
];

/**
 * hub-auth's wings, outermost first (paths under packages/hub-auth/src). A module imports from
 * its own wing and the wings below it, never from one above, nor from one beside it in its row:
 * - cli.ts starts the service;
 * - http/ builds it and answers the requests: the app, the routes, reload, shutdown;
 * - service-deps.ts is what the routes are given: its own module, so that the routes need not
 *   import the app that registers them;
 * - tokens/ turns a token request into a signed token: it asks accounts/ who the caller is and the
 *   policy what the caller gets;
 * - accounts/ makes an account of the claims oidc/ checked, and is the requester the policy sees;
 *   beside it, workloads/ makes a robot of a CI job's or a pod's token (checked with oidc/'s
 *   pieces) and needs no binding, hence no accounts/; accounts' bindings are rows of
 * - sessions/ ends and checks sign-in and web sessions; beside it, activity/ keeps what the
 *   registry's notifications tell of its manifests: both are rows of
 * - store/, the state in PostgreSQL (embedded or a server): connections, schema, state paths; it
 *   knows no account, only SQL;
 * - policy/ decides on names and oidc/ checks tokens: neither needs the other;
 * - the shared leaves, which every wing uses, import no wing. namespaces.ts is one of them, not a
 *   part of accounts/, because the configuration checks reserved names with it and accounts/
 *   reads the configuration.
 */
const HUB_AUTH_WINGS = [
  [{wing: 'cli', files: ['cli.ts']}],
  [{wing: 'operator', files: ['operator/*.ts']}],
  [{wing: 'http', files: ['http/*.ts', 'http/*/*.ts']}],
  [{wing: 'service-deps', files: ['service-deps.ts']}],
  [{wing: 'tokens', files: ['tokens/*.ts']}],
  [
    {wing: 'accounts', files: ['accounts/*.ts']},
    {wing: 'workloads', files: ['workloads/*.ts']},
  ],
  [
    {wing: 'sessions', files: ['sessions/*.ts']},
    {wing: 'activity', files: ['activity/*.ts']},
  ],
  [{wing: 'store', files: ['store/*.ts']}],
  [
    {wing: 'policy', files: ['policy/*.ts']},
    {wing: 'oidc', files: ['oidc/*.ts']},
  ],
  [
    {
      wing: 'shared',
      files: [
        'compact-jws.ts',
        'config.ts',
        'holder.ts',
        'in-flight.ts',
        'admin-credential.ts',
        'metrics.ts',
        'namespaces.ts',
        'remember.ts',
        'version.ts',
        'workload-claims.ts',
      ],
    },
  ],
];
const WING_ORDER = 'imports upward or sideways: hub-auth wings import only downwards (eslint.config.js says which is where, and why)';

/**
 * One block per wing and depth: a hub-auth module gets the wing rule and the package rule in one
 * list of patterns, since a later block would replace, not add to, an earlier one's.
 */
const WING_BLOCKS = HUB_AUTH_WINGS.flatMap((row, index) => {
  const above = HUB_AUTH_WINGS.slice(0, index).flat();
  return row.flatMap(({wing, files}) => {
    const forbidden = [...above, ...row.filter((other) => other.wing !== wing)].map((other) => other.wing);
    return PACKAGE_DEPTHS.map((depth) => [depth, files.filter((file) => file.split('/').length === depth + 1)])
      .filter(([, atDepth]) => atDepth.length > 0)
      .map(([depth, atDepth]) =>
        restrict(
          atDepth.map((file) => `packages/hub-auth/src/${file}`),
          [...packageApart(depth), ...(forbidden.length > 0 ? [{...into(...forbidden), message: WING_ORDER}] : [])],
        ),
      );
  });
});

export default tseslint.config(
  {ignores: ['dist/**', 'packages/*/dist/**', 'node_modules/**', 'coverage/**', '.tmp/**', 'bench/.previous/**']},
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
              group: ['hub-auth', 'hub-auth/*', '@hub/web', '**/packages/**'],
              message:
                'the CLI imports nothing from hub-auth: what both must agree on lives in @hub/protocol, what both run on in @hub/common',
            },
          ],
        },
      ],
    },
  })),
  ...PACKAGE_DEPTHS.map((depth) => restrict([`packages/*/src/${'*/'.repeat(depth)}*.ts`], packageApart(depth))),
  // A module in none of the wings (a new folder, say) imports nothing until it is given a place.
  restrict(
    ['packages/hub-auth/src/**/*.ts'],
    [{regex: '^', message: 'a hub-auth module in no wing: add it to HUB_AUTH_WINGS in eslint.config.js'}],
  ),
  ...WING_BLOCKS,
  {
    files: ['src/**/*.ts'],
    plugins: {hub: {rules: {'start-up-path': startUpPathRule(ROOT, START_UP_PATH)}}},
    rules: {'hub/start-up-path': 'error'},
  },
);
