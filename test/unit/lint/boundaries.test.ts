import {existsSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {join} from 'node:path';
import {ESLint, type Linter} from 'eslint';
import {describe, expect, it} from 'vitest';

/** The repository's own eslint.config.js, run on one line of source put in a given module's place. */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const eslint = new ESLint({cwd: ROOT});

async function problems(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${source}\nexport {};\n`, {filePath: join(ROOT, file)});
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

/** `source` in `file` gets exactly one problem, whose text holds `problem`. */
async function expectRefused(file: string, source: string, problem: string): Promise<void> {
  expect(await problems(file, source)).toEqual([expect.stringContaining(problem)]);
}

async function expectAllowed(file: string, source: string): Promise<void> {
  expect(await problems(file, source)).toEqual([]);
}

// ESLint loads typescript-eslint once, which takes seconds on a busy machine.
describe('import boundaries (eslint.config.js)', {timeout: 60_000}, () => {
  it('keeps openid-client, dockerode, oclif and zod off the credential helper’s and the fast path’s start-up path, types excepted', async () => {
    for (const pkg of ['openid-client', 'dockerode', '@oclif/core', 'zod']) {
      await expectRefused('src/docker/credential-helper.ts', `import x from '${pkg}'; void x;`, 'hub/start-up-path');
    }
    await expectAllowed(
      'src/store/keychain.ts',
      "import type {Configuration} from 'openid-client'; let c: Configuration | undefined; void c;",
    );
    await expectAllowed('src/fast-path.ts', "import {readFileSync} from 'node:fs'; void readFileSync;");
  });

  it('refuses a module the start-up path does not list (it would bring its own imports along)', async () => {
    await expectRefused(
      'src/session/refresh.ts',
      "import {discoverProvider} from '../auth/oidc.js'; void discoverProvider;",
      'hub/start-up-path',
    );
    await expectAllowed('src/session/refresh.ts', "import {HubError} from '@hub/common/errors'; void HubError;");
    await expectRefused('src/session/refresh.ts', "import {x} from '@hub/protocol/hub-configuration'; void x;", 'hub/start-up-path');
  });

  it('refuses imports upward: adapters → flows or commands, flows → commands', async () => {
    await expectRefused('src/registry/client.ts', "import {login} from '../flows/login.js'; void login;", 'imports upward');
    await expectRefused('src/flows/images.ts', "import Login from '../commands/login.js'; void Login;", 'imports upward');
    await expectAllowed('src/commands/images.ts', "import {images} from '../flows/images.js'; void images;");
  });

  it('puts session/ between the flows and the context: the flows and docker-credential-hub use it, the adapters do not', async () => {
    await expectAllowed(
      'src/docker/credential-helper-main.ts',
      "import {credentialsNow} from '../session/credentials.js'; void credentialsNow;",
    );
    await expectAllowed('src/flows/transfer.ts', "import {credentialsNow} from '../session/credentials.js'; void credentialsNow;");
    await expectRefused(
      'src/registry/client.ts',
      "import {credentialsNow} from '../session/credentials.js'; void credentialsNow;",
      'imports upward',
    );
    await expectRefused(
      'src/session/credentials.ts',
      "import type {LoginOptions} from '../flows/login.js'; let o: LoginOptions | undefined; void o;",
      'imports upward',
    );
    // store/session.ts is the stored session's shape, an adapter: the folder's name does not catch it.
    await expectAllowed('src/store/keychain.ts', "import type {Session} from './session.js'; let s: Session | undefined; void s;");
  });

  it('keeps hub-auth and the CLI apart, with @hub/protocol and @hub/common between them', async () => {
    for (const source of [
      "import {x} from '../../packages/hub-auth/src/tokens/scope.js'; void x;",
      "import {x} from 'hub-auth'; void x;",
    ]) {
      await expectRefused('src/commands/login.ts', source, 'imports nothing from hub-auth');
    }
    await expectRefused(
      'packages/hub-auth/src/config.ts',
      "import {readSettings} from '../../../src/config/settings.js'; void readSettings;",
      'imports other packages by name',
    );
    await expectRefused(
      'packages/hub-auth/src/http/app.ts',
      "import {x} from '../../../../src/auth/oidc.js'; void x;",
      'imports other packages by name',
    );
    await expectRefused('packages/protocol/src/catalog.ts', "import {x} from 'hub-auth'; void x;", 'imports other packages by name');
    await expectAllowed(
      'packages/hub-auth/src/http/app.ts',
      "import {x} from '@hub/protocol/catalog'; import {y} from '../tokens/scope.js'; void x; void y;",
    );
    await expectRefused(
      'packages/hub-auth/src/http/routes/token.ts',
      "import {x} from '../../../../../src/auth/oidc.js'; void x;",
      'imports other packages by name',
    );
  });

  it('keeps hub-auth’s wings in order: http → service-deps → tokens → accounts → store → policy, oidc → the shared leaves', async () => {
    const upward = [
      // The type-only cycle there was: the routes' dependencies declared in the app that registers them.
      ['packages/hub-auth/src/service-deps.ts', "import type {x} from './http/app.js'; let y: x | undefined; void y;"],
      [
        'packages/hub-auth/src/tokens/issue-token.ts',
        "import type {TokenServiceDeps} from '../service-deps.js'; let d: TokenServiceDeps | undefined; void d;",
      ],
      ['packages/hub-auth/src/accounts/identity.ts', "import {callerResolver} from '../tokens/caller.js'; void callerResolver;"],
      ['packages/hub-auth/src/policy/acl.ts', "import type {Holder} from '../accounts/requester.js'; let h: Holder | undefined; void h;"],
      ['packages/hub-auth/src/store/migrations.ts', "import {accountBindings} from '../accounts/bindings.js'; void accountBindings;"],
      ['packages/hub-auth/src/oidc/verify-access-token.ts', "import {migrate} from '../store/migrations.js'; void migrate;"],
      ['packages/hub-auth/src/oidc/verify-access-token.ts', "import {decide} from '../policy/acl.js'; void decide;"],
      ['packages/hub-auth/src/policy/acl.ts', "import {x} from '../oidc/access-token-checks.js'; void x;"],
      ['packages/hub-auth/src/config.ts', "import {parseScopes} from './tokens/scope.js'; void parseScopes;"],
      ['packages/hub-auth/src/http/routes/token.ts', "import {x} from '../../cli.js'; void x;"],
    ];
    for (const [file, source] of upward) await expectRefused(file!, source!, 'hub-auth wings import only downwards');
    await expectAllowed(
      'packages/hub-auth/src/http/routes/token.ts',
      "import type {TokenServiceDeps} from '../../service-deps.js'; import {issueRegistryToken} from '../../tokens/issue-token.js'; let d: TokenServiceDeps | undefined; void d; void issueRegistryToken;",
    );
    await expectAllowed('packages/hub-auth/src/accounts/bindings.ts', "import {migrate} from '../store/migrations.js'; void migrate;");
    await expectAllowed(
      'packages/hub-auth/src/tokens/caller.ts',
      "import {requesterReader} from '../accounts/requester.js'; import {InvalidTokenError} from '../oidc/verify-access-token.js'; import {ConfigError} from '../config.js'; void requesterReader; void InvalidTokenError; void ConfigError;",
    );
    await expectRefused(
      'packages/hub-auth/src/unplaced/queries.ts',
      "import {ConfigError} from '../config.js'; void ConfigError;",
      'in no wing',
    );
  });

  it('names only folders and files that exist', async () => {
    // By URL: the config is JavaScript without types, and its blocks are what is read here.
    const {default: config} = (await import(new URL('../../../eslint.config.js', import.meta.url).href)) as {default: Linter.Config[]};
    const named = config.flatMap((block) => (block.files ?? []).flat()).filter((pattern): pattern is string => typeof pattern === 'string');
    // Up to the first wildcard: the folder (or, with none, the file) the pattern names.
    const missing = named.map((pattern) => pattern.split(/[*?{[]/)[0]!).filter((path) => path !== '' && !existsSync(join(ROOT, path)));
    expect(missing).toEqual([]);
  });
});
