/**
 * `npm run bundle` (part of `npm run build`): every program, bundled by esbuild. The workspace
 * packages (@hub/protocol, @hub/common) are TypeScript sources that each program carries inside
 * its bundle; the programs' npm dependencies stay outside, in node_modules.
 *
 * hub's entry points, whose start-up users feel, are each one CommonJS file, which node loads
 * faster than a tree of ES modules (one file read and compile instead of one per module, and no
 * ES module loader):
 * - credential-helper-main: docker-credential-hub, which docker starts for each operation on a
 *   hub registry;
 * - credential-provider-main: hub-kubelet-credential-provider, which the kubelet starts before a
 *   pod whose image is on a hub registry;
 * - start: what `hub` does first, the answers it gives without oclif (`--version`, `status`)
 *   and the loading of
 * - cli: every other command, with oclif and dockerode inside (src/cli.ts), whose V8 code
 *   cache is written next to it (src/code-cache.ts, a bundle of its own for the bins).
 * Lazy modules stay lazy inside a bundle. Packages outside it stay in node_modules; the ES-only
 * ones (openid-client) are loaded by require() when first needed, which Node ≥ 20.19 supports.
 *
 * hub-auth (packages/hub-auth) is one ES module, dist/hub-auth.js in its package.
 */
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {resolve} from 'node:path';
import {build, type BuildOptions, type Plugin} from 'esbuild';

const dependenciesOf = (manifest: string) =>
  Object.keys((JSON.parse(readFileSync(manifest, 'utf8')) as {dependencies: Record<string, string>}).dependencies);
const dependencies = dependenciesOf('package.json');

/**
 * Inside the cli bundle: oclif and dockerode, whose hundreds of small files cost most to load, and
 * debug, which both use and hub configures (src/docker/modem-debug.ts): one copy for all three.
 * dockerode is all inside (a devDependency of hub's package): see LEFT_OUT.
 */
const BUNDLED_PACKAGES = ['@oclif/core', 'dockerode', 'debug'];

/**
 * dockerode loads, as it starts, BuildKit's gRPC session (for buildImage) and docker-modem's ssh
 * agent (for ssh:// engines), and BuildKit's progress reader on docker.followProgress: hub builds
 * no image, refuses ssh:// engines (src/docker/engine-address.ts) and follows progress through
 * the modem. Each gets a stand-in that throws if ever called, so hub's package needs neither
 * dockerode nor gRPC, protobufjs and ssh2 (whose install scripts npm would list) in node_modules.
 */
const LEFT_OUT: Record<string, string> = {
  'dockerode/lib/session': 'module.exports = refuse;',
  'dockerode/lib/buildkit': 'module.exports = {followProgress: refuse};',
  'docker-modem/lib/ssh': 'module.exports = refuse;',
};

const dockerodeWithoutBuildOrSsh: Plugin = {
  name: 'dockerode-without-build-or-ssh',
  setup(builder) {
    builder.onResolve({filter: /^\.\/(session|ssh|buildkit)$/}, (args) => {
      const library = /node_modules\/(dockerode|docker-modem)\/lib\/[^/]+$/.exec(args.importer);
      const key = library && `${library[1]}/lib/${args.path.slice(2)}`;
      return key && LEFT_OUT[key] ? {path: key, namespace: 'left-out'} : undefined;
    });
    builder.onLoad({filter: /.*/, namespace: 'left-out'}, (args) => ({
      contents: `function refuse() { throw new Error(${JSON.stringify(`hub's bundle leaves out ${args.path}`)}); }\n${LEFT_OUT[args.path]}`,
      loader: 'js',
    }));
  },
};

/**
 * oclif loads the commands of its plugins (help, autocomplete: src/cli.ts), which are ES modules,
 * by import() of their file URL. The bundle has no import() (below), and require() takes no URL:
 * those import()s become require()s of the path, which loads an ES module on Node ≥ 20.19.
 */
const OCLIF_IMPORT = 'await import((0, node_url_1.pathToFileURL)(filePath).href)';
const oclifPluginsByRequire: Plugin = {
  name: 'oclif-plugins-by-require',
  setup(builder) {
    builder.onLoad({filter: /@oclif\/core\/lib\/module-loader\.js$/}, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(OCLIF_IMPORT))
        throw new Error(`${args.path} no longer loads ES modules by ${OCLIF_IMPORT}: check how it does now`);
      return {contents: source.replaceAll(OCLIF_IMPORT, 'require(filePath)'), loader: 'js'};
    });
  },
};

const common: BuildOptions = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outdir: 'dist/bundle',
  entryNames: '[name]',
  outExtension: {'.js': '.cjs'},
  sourcemap: true,
  // keychain.ts loads the keyring addon, and cli.ts finds package.json, through import.meta.url.
  define: {'import.meta.url': '__importMetaUrl'},
  banner: {js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;"},
  logLevel: 'warning',
};

await Promise.all([
  build({...common, entryPoints: ['src/docker/credential-helper-main.ts', 'src/start.ts', 'src/code-cache.ts'], external: dependencies}),
  // Every call of the kubelet's provider makes HTTP requests: undici goes inside, where it loads
  // in half the time it takes from node_modules' hundred files, and the code cache covers it.
  build({
    ...common,
    entryPoints: ['src/kubelet/credential-provider-main.ts'],
    external: dependencies.filter((name) => name !== 'undici'),
    supported: {'dynamic-import': false},
  }),
  build({
    ...common,
    entryPoints: ['src/cli.ts'],
    // typescript: oclif loads it only to run commands from .ts sources in development.
    external: [...dependencies.filter((name) => !BUNDLED_PACKAGES.includes(name)), 'typescript'],
    plugins: [dockerodeWithoutBuildOrSsh, oclifPluginsByRequire],
    // import() turned into require(): node 20 loses vm.Script's import() callback in code
    // restored from a code cache ("A dynamic import callback was not specified").
    supported: {'dynamic-import': false},
  }),
  build({
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    entryPoints: ['packages/hub-auth/src/cli.ts'],
    outfile: 'packages/hub-auth/dist/hub-auth.js',
    // Every package stays outside but the workspace's own: a dependency missing from hub-auth's
    // package.json then fails its install test instead of hiding inside the bundle.
    plugins: [
      {
        name: 'packages-outside-but-workspace',
        setup(builder) {
          builder.onResolve({filter: /^[^./]/}, (args) => (args.path.startsWith('@hub/') ? undefined : {path: args.path, external: true}));
        },
      },
    ],
    logLevel: 'warning',
  }),
]);

// In a plain node, as the bins run: V8 refuses a cache made under other flags.
const [codeCache, ...cached] = ['dist/bundle/code-cache.cjs', 'dist/bundle/cli.cjs', 'dist/bundle/credential-provider-main.cjs'].map(
  (file) => resolve(file),
);
for (const bundle of cached) {
  execFileSync(process.execPath, ['-e', `require(${JSON.stringify(codeCache)}).writeCodeCache(${JSON.stringify(bundle)})`], {
    stdio: 'inherit',
  });
}
