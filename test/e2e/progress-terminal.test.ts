import {execFile} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {makeLayeredImage} from '@hub/test-stack/docker-engine';
import {runHub, transcript} from '@hub/test-stack/hub-cli';
import {USERS} from '@hub/test-stack/identity-provider';
import {assertPrograms, E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from '@hub/test-stack/registry-stack';
import {runInTerminal, screenAfter, TERMINAL_PROGRAMS, type TerminalSize} from '@hub/test-stack/terminal';

const [alice] = USERS as [(typeof USERS)[number]];
const HUB = [process.execPath, fileURLToPath(new URL('../../bin/run.cjs', import.meta.url))];
const run = promisify(execFile);

/** Wide enough for docker's bar (over 110 columns). */
const WIDE: TerminalSize = {columns: 150, rows: 40};
const LAYER = /^[0-9a-f]{12}: /;
/** docker's bar: 50 wide, then the sizes as docker writes them. */
const BAR = /^[0-9a-f]{12}: (Pushing|Downloading|Extracting) \[=*> *\] +\d+(\.\d+)?[kMG]?B\/\d+(\.\d+)?[kMG]?B$/;
/** The renderer's cursor moves: up, down, erase line. */
const CURSOR_MOVES = /\u001B\[\d*[ABK]/;

/** The bytes up to the end of the first frame that draws a layer's bar. */
function untilFirstBar(bytes: string): string {
  const bar = /: (Pushing|Downloading) \[/.exec(bytes);
  expect(bar, 'no bar was drawn').not.toBeNull();
  const frameEnd = /\r\u001B\[\d+B/g;
  frameEnd.lastIndex = bar!.index;
  expect(frameEnd.exec(bytes)).not.toBeNull();
  return bytes.slice(0, frameEnd.lastIndex);
}

describe.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS, ...TERMINAL_PROGRAMS]))(
  'hub push and pull at a terminal: progress like docker’s',
  () => {
    let stack: RegistryStack;
    let registry: string;
    let env: NodeJS.ProcessEnv;
    let reference: string;

    beforeAll(async () => {
      assertPrograms(TERMINAL_PROGRAMS);
      stack = await startRegistryStack();
      registry = stack.registry.host;
      env = stack.env;
      const login = runHub(['login', registry], env);
      await stack.browser.signIn(await stack.browser.nextUrl(), alice);
      expect((await login).code).toBe(0);
      // Two layers, each big enough for the engine to report progress on the way.
      await makeLayeredImage(env, stack.sandbox.dir, 'layered:2.0', [6_000_000, 3_000_000]);
      reference = `${registry}/alice/layered:2.0`;
    });

    afterAll(() => stack?.stop());

    it('push: bars redrawn in the layer block, the digest line below it, then hub’s line', async () => {
      const pushed = await runInTerminal([...HUB, 'push', 'layered:2.0'], env, WIDE);
      transcript.push({code: pushed.code, stdout: '', stderr: pushed.bytes});
      expect(pushed.code, pushed.bytes).toBe(0);

      // While the layers go up: each layer on a line of its own, one of them with docker's bar.
      const during = await screenAfter(untilFirstBar(pushed.bytes), WIDE);
      expect(during.slice(0, 2)).toEqual([`Pushing ${reference}`, `The push refers to repository [${registry}/alice/layered]`]);
      const block = during.slice(2).filter((line) => line !== '');
      expect(block).toHaveLength(2);
      for (const line of block) expect(line).toMatch(LAYER);
      expect(
        block.some((line) => BAR.test(line)),
        block.join('\n'),
      ).toBe(true);

      // At the end: the block's final states, then what docker prints after it, then hub's line.
      const after = await screenAfter(pushed.bytes, WIDE);
      const lines = after.filter((line) => line !== '');
      expect(lines).toHaveLength(6);
      expect(lines.slice(0, 2)).toEqual([`Pushing ${reference}`, `The push refers to repository [${registry}/alice/layered]`]);
      for (const line of lines.slice(2, 4)) expect(line).toMatch(/^[0-9a-f]{12}: Pushed$/);
      expect(lines[4]).toMatch(/^2\.0: digest: sha256:[0-9a-f]{64} size: \d+$/);
      expect(lines[5]).toMatch(new RegExp(`^✓ Pushed ${reference.replaceAll('.', '\\.')} \\(sha256:[0-9a-f]{64}\\)$`));
    });

    it('push at a terminal that reports 0 rows: plain lines in docker’s order, no cursor movement, no ticks', async () => {
      const pushed = await runInTerminal([...HUB, 'push', 'layered:2.0'], env);
      transcript.push({code: pushed.code, stdout: '', stderr: pushed.bytes});
      expect(pushed.code, pushed.bytes).toBe(0);
      expect(pushed.bytes).not.toMatch(CURSOR_MOVES);
      const lines = pushed.bytes.split('\r\n').filter((line) => line !== '');
      expect(lines.slice(0, 2)).toEqual([`Pushing ${reference}`, `The push refers to repository [${registry}/alice/layered]`]);
      const layers = lines.slice(2, -2);
      for (const line of layers) expect(line).toMatch(/^[0-9a-f]{12}: (Preparing|Waiting|Layer already exists)$/);
      expect(layers.filter((line) => line.endsWith(': Layer already exists'))).toHaveLength(2);
      expect(lines.at(-2)).toMatch(/^2\.0: digest: sha256:[0-9a-f]{64} size: \d+$/);
      expect(lines.at(-1)).toMatch(/^✓ Pushed /);
    });

    it('pull: bars while downloading, then the digest and status lines below the layers', async () => {
      await run('docker', ['rmi', 'layered:2.0', reference], {env});
      const pulled = await runInTerminal([...HUB, 'pull', 'layered:2.0'], env, WIDE);
      transcript.push({code: pulled.code, stdout: '', stderr: pulled.bytes});
      expect(pulled.code, pulled.bytes).toBe(0);

      const during = (await screenAfter(untilFirstBar(pulled.bytes), WIDE)).filter((line) => line !== '');
      expect(during.slice(0, 2)).toEqual([`Pulling ${reference}`, '2.0: Pulling from alice/layered']);
      expect(
        during.slice(2).some((line) => BAR.test(line)),
        during.join('\n'),
      ).toBe(true);

      const lines = (await screenAfter(pulled.bytes, WIDE)).filter((line) => line !== '');
      expect(lines).toHaveLength(7);
      expect(lines.slice(0, 2)).toEqual([`Pulling ${reference}`, '2.0: Pulling from alice/layered']);
      for (const line of lines.slice(2, 4)) expect(line).toMatch(/^[0-9a-f]{12}: Pull complete$/);
      expect(lines[4]).toMatch(/^Digest: sha256:[0-9a-f]{64}$/);
      expect(lines[5]).toBe(`Status: Downloaded newer image for ${reference}`);
      expect(lines[6]).toMatch(/^✓ Pulled /);
    });

    it('never printed a token', () => {
      const tokens = transcript.flatMap((r) => r.stderr.match(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g) ?? []);
      expect(tokens).toEqual([]);
    });
  },
);
