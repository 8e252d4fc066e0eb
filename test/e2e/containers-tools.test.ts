import {execFile} from 'node:child_process';
import {mkdir, readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {CONTAINERD_PROGRAMS, startContainerd} from '@hub/test-stack/containerd';
import {CONTAINERS_PROGRAMS, containersTools, type ContainersTools} from '@hub/test-stack/containers-tools';
import {withHubOnPath} from '@hub/test-stack/hub-bins';
import {runHub, transcript} from '@hub/test-stack/hub-cli';
import {USERS} from '@hub/test-stack/identity-provider';
import {E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from '@hub/test-stack/registry-stack';
import {answerOnTerminal, TERMINAL_PROGRAMS} from '@hub/test-stack/terminal';

const run = promisify(execFile);
const [alice] = USERS as [(typeof USERS)[number]];

/** An auth file as podman writes it (tabs, no final newline), with a login and a helper hub must not touch. */
const PODMAN_WRITTEN = JSON.stringify({auths: {'quay.io': {auth: 'dXNlcjpwYXNz'}}, credHelpers: {'gcr.io': 'gcloud'}}, null, '\t');

describe.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS, ...CONTAINERS_PROGRAMS, ...CONTAINERD_PROGRAMS, ...TERMINAL_PROGRAMS]))(
  'podman and buildah pull and push through docker-credential-hub, from the containers auth file hub login writes',
  () => {
    let stack: RegistryStack;
    let registry: string;
    let env: NodeJS.ProcessEnv;
    let tests = 0;

    beforeAll(async () => {
      stack = await startRegistryStack();
      registry = stack.registry.host;
      ({env} = await withHubOnPath(stack.sandbox.dir, stack.env));
    });

    afterAll(() => stack?.stop());

    /**
     * Storage, run root and auth file of the test's own, the auth file as podman left it, and alice
     * logged in. docker's config folder is empty, as in the issue (podman 4.3 then failed on the
     * missing config.json), and login leaves it so: only the containers auth file sends the tools to hub.
     */
    async function loggedIn(extraLoginArgs: string[] = []): Promise<{tools: ContainersTools; authFile: string; login: string}> {
      const dir = join(stack.sandbox.dir, `containers-${++tests}`);
      const authFile = join(dir, 'auth.json');
      await mkdir(join(dir, 'docker'), {recursive: true});
      await writeFile(authFile, PODMAN_WRITTEN);
      const toolEnv = {...env, REGISTRY_AUTH_FILE: authFile, DOCKER_CONFIG: join(dir, 'docker')};
      const run = runHub(['login', registry, '--docker-config', 'none', ...extraLoginArgs], toolEnv);
      await stack.browser.signIn(await stack.browser.nextUrl(), alice);
      const result = await run;
      expect(result.code, result.stderr).toBe(0);
      return {tools: await containersTools(dir, toolEnv), authFile, login: result.stderr};
    }

    // The test registry speaks plain http on 127.0.0.1, which podman and buildah refuse without this.
    const plainHttp = '--tls-verify=false';

    it('hub login adds exactly the credHelpers entry to the containers auth file, and says so', async () => {
      const {authFile, login} = await loggedIn();
      expect(login).toContain(`✓ podman and buildah use hub for ${registry} (credHelpers in ${authFile}).`);
      const expected = JSON.parse(PODMAN_WRITTEN) as {credHelpers: Record<string, string>};
      expected.credHelpers[registry] = 'hub';
      expect(await readFile(authFile, 'utf8')).toBe(JSON.stringify(expected, null, '\t'));
    });

    it('--containers-auth none leaves the containers auth file alone', async () => {
      const {tools, authFile, login} = await loggedIn(['--containers-auth', 'none']);
      expect(login).not.toContain('podman and buildah');
      expect(await readFile(authFile, 'utf8')).toBe(PODMAN_WRITTEN);
      const image = `${registry}/alice/untouched:1`;
      await tools.makeImage(image);
      expect((await tools.podman(['push', plainHttp, image])).code).not.toBe(0);
    });

    it('podman pushes into the account’s namespace and pulls it back', async () => {
      const {tools} = await loggedIn();
      const image = `${registry}/alice/podapp:1`;
      await tools.makeImage(image);
      const pushed = await tools.podman(['push', plainHttp, image]);
      expect(pushed.code, pushed.output).toBe(0);
      expect((await tools.podman(['rmi', image])).code).toBe(0);
      const pulled = await tools.podman(['pull', plainHttp, image]);
      expect(pulled.code, pulled.output).toBe(0);
      expect((await tools.podman(['image', 'exists', image])).code).toBe(0);
    });

    it('buildah pushes and pulls too', async () => {
      const {tools} = await loggedIn();
      const image = `${registry}/alice/buildahapp:1`;
      await tools.makeImage(image);
      const pushed = await tools.buildah(['push', plainHttp, image, `docker://${image}`]);
      expect(pushed.code, pushed.output).toBe(0);
      expect((await tools.buildah(['rmi', image])).code).toBe(0);
      const pulled = await tools.buildah(['pull', plainHttp, image]);
      expect(pulled.code, pulled.output).toBe(0);
    });

    it('registries.conf credential-helpers reaches the helper without the auth file', async () => {
      const {tools} = await loggedIn(['--containers-auth', 'none']);
      const conf = join(stack.sandbox.dir, `registries-${tests}.conf`);
      await writeFile(conf, 'credential-helpers = ["containers-auth.json", "hub"]\n');
      const image = `${registry}/alice/confapp:1`;
      await tools.makeImage(image);
      const pushed = await tools.podman(['push', plainHttp, image], {CONTAINERS_REGISTRIES_CONF: conf});
      expect(pushed.code, pushed.output).toBe(0);
    });

    it('a podman push into another person’s namespace is refused', async () => {
      const {tools} = await loggedIn();
      const image = `${registry}/bob/stolen:1`;
      await tools.makeImage(image);
      const pushed = await tools.podman(['push', plainHttp, image]);
      expect(pushed.code).not.toBe(0);
      expect(pushed.output).toMatch(/denied|unauthorized/i);
      expect((await runHub(['images', 'bob/stolen'], env)).code).toBe(1);
    });

    it('containerd’s ctr, which has no credential helpers, pulls with hub token typed at its password prompt', async () => {
      const {tools, authFile} = await loggedIn();
      const image = `${registry}/alice/ctrapp:1`;
      await tools.makeImage(image);
      expect((await tools.podman(['push', plainHttp, image])).code).toBe(0);
      const containerd = await startContainerd(join(authFile, '..', 'containerd'));
      try {
        // Printed by design, so not through runHub: its transcript is what the leak check reads.
        const token = (await run('hub', ['token', registry], {env})).stdout.trim();
        const pull = containerd.ctr('images', 'pull', '--plain-http', '--snapshotter', 'native', '--user', 'hub', image);
        const pulled = await answerOnTerminal(pull, env, 'Password:', token);
        expect(pulled.code, pulled.bytes).toBe(0);
        // ctr turns the echo off for the password: the token is on nobody's screen or command line.
        expect(pulled.bytes).not.toContain(token);
        const anonymous = await answerOnTerminal(
          pull.filter((arg) => arg !== '--user' && arg !== 'hub'),
          env,
          'never asked',
          '',
        );
        expect(anonymous.code).not.toBe(0);
      } finally {
        await containerd.stop();
      }
    });

    it('hub doctor checks that podman finds the helper', async () => {
      const {authFile} = await loggedIn();
      const doctor = await runHub(['doctor', registry, '--json'], {
        ...env,
        REGISTRY_AUTH_FILE: authFile,
        DOCKER_CONFIG: join(authFile, '..', 'docker'),
      });
      const checks = JSON.parse(doctor.stdout) as Array<{name: string; ok: boolean; detail: string}>;
      expect(checks.find((check) => check.name === 'podman credential helper')).toMatchObject({
        ok: true,
        detail: expect.stringContaining(`answers for ${registry} as alice`) as unknown,
      });
      // An entry for another helper in podman's own file wins over docker's config.json, as in containers/image.
      const elsewhere = join(stack.sandbox.dir, 'elsewhere.json');
      await writeFile(elsewhere, JSON.stringify({credHelpers: {[registry]: 'secretservice'}}));
      const wrong = await runHub(['doctor', registry], {
        ...env,
        REGISTRY_AUTH_FILE: elsewhere,
        DOCKER_CONFIG: join(authFile, '..', 'docker'),
      });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain(`${elsewhere} sends ${registry} to docker-credential-secretservice, not to hub`);
    });

    it('hub logout removes exactly that entry, and podman no longer pulls', async () => {
      const {tools, authFile} = await loggedIn();
      const image = `${registry}/alice/gone:1`;
      await tools.makeImage(image);
      expect((await tools.podman(['push', plainHttp, image])).code).toBe(0);
      expect((await tools.podman(['rmi', image])).code).toBe(0);
      const out = await runHub(['logout', registry], env);
      expect(out.code, out.stderr).toBe(0);
      expect(await readFile(authFile, 'utf8')).toBe(PODMAN_WRITTEN);
      const pulled = await tools.podman(['pull', plainHttp, image]);
      expect(pulled.code).not.toBe(0);
      expect(transcript.map((result) => result.stdout + result.stderr).join('')).not.toMatch(/eyJ[\w-]+\.eyJ/);
    });
  },
);
