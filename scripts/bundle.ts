/**
 * `npm run bundle` (part of `npm run build`): the two entry points whose start-up users feel on
 * every call — docker-credential-hub, which docker starts for each operation on a hub registry,
 * and the answers `hub` gives without oclif — each bundled into one CommonJS file. Node loads
 * one CommonJS file faster than a tree of ES modules (one file read and compile instead of one
 * per module, and no ES module loader). Packages stay in node_modules; the ES-only ones
 * (openid-client) are loaded by require() on the rare paths that need them, which Node ≥ 20.19
 * supports.
 */
import {build} from 'esbuild';

await build({
  entryPoints: ['src/docker/credential-helper-main.ts', 'src/fast-path.ts'],
  outdir: 'dist/bundle',
  entryNames: '[name]',
  outExtension: {'.js': '.cjs'},
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  // keychain.ts loads the keyring addon through createRequire(import.meta.url).
  define: {'import.meta.url': '__importMetaUrl'},
  banner: {js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;"},
  logLevel: 'warning',
});
