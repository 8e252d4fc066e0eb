import {readFileSync, writeFileSync} from 'node:fs';
import Module, {createRequire} from 'node:module';
import {dirname} from 'node:path';
import {Script} from 'node:vm';

/**
 * V8's code cache for the CLI bundle, made at build time: node 20 compiles the 1 MB bundle anew
 * on every `hub` command (~15 ms of its start-up, measured), and has no compile cache of its own
 * (node 22's module.enableCompileCache). The cache is V8's own format, checked by V8 against the
 * source and its version: under another node it is refused, and the bundle compiles as usual.
 */
const codeCachePath = (bundle: string) => `${bundle}.v8-cache`;

/** Loads a CommonJS bundle as require() would, from its code cache when V8 accepts it. */
export function requireWithCodeCache(bundle: string): unknown {
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(codeCachePath(bundle));
  } catch {
    // no cache: compiled from source
  }
  return load(bundle, cachedData).exports;
}

/** Runs the bundle once and writes the code V8 compiled for it, start-up included. */
export function writeCodeCache(bundle: string): void {
  writeFileSync(codeCachePath(bundle), load(bundle).script.createCachedData());
}

function load(bundle: string, cachedData?: Buffer): {exports: unknown; script: Script} {
  // No import() callback: node 20 drops it from code restored from a cache, so the bundle is
  // built without import() (scripts/bundle.ts).
  const script = new Script(Module.wrap(readFileSync(bundle, 'utf8')), {filename: bundle, cachedData});
  const module = new Module(bundle);
  module.filename = bundle;
  const requireFromBundle = createRequire(bundle);
  // Registered first, as require() does: oclif requires the same file to find the commands.
  requireFromBundle.cache[bundle] = module;
  (script.runInThisContext() as (...args: unknown[]) => void).call(
    module.exports,
    module.exports,
    requireFromBundle,
    module,
    bundle,
    dirname(bundle),
  );
  module.loaded = true;
  return {exports: module.exports, script};
}
