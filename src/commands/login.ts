import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {HubCommand} from '../base-command.js';
import {secretFromStdin} from '../io/stdin.js';
import type {LoginResult} from '../flows/login.js';

export default class Login extends HubCommand {
  static override summary = 'Sign in to a registry through its identity provider, in your browser.';
  static override description = [
    'Runs the OAuth 2.0 authorization code flow with PKCE: hub opens your browser on the identity provider and ' +
      'receives the answer on a one-time server on 127.0.0.1. The tokens go to the OS keychain; the settings are ' +
      'remembered, so later commands need no flags.',
    "With only a registry name, hub asks the registry's hub-auth which identity provider to use, and asks you " +
      "to confirm it when it is not on the registry's own domain (--yes or --issuer skip the question). The " +
      'access token is always asked for the registry you name (audience https://REGISTRY), so it is of no use at ' +
      'any other registry.',
    'Set HUB_BROWSER to a command (the URL is added as its last argument) to choose the browser; it gets a ' +
      'one-time http://127.0.0.1 link that leads to the identity provider.',
  ].join('\n\n');

  static override examples = [
    '<%= config.bin %> login registry.example.com --issuer https://id.example.com/realms/dev --client-id hub',
    '<%= config.bin %> login registry.example.com',
  ];

  static override args = {
    registry: Args.string({description: 'registry host, e.g. registry.example.com or localhost:5000'}),
  };

  static override flags = {
    issuer: Flags.string({description: 'identity provider issuer URL', env: 'HUB_ISSUER'}),
    'client-id': Flags.string({description: 'OAuth client id registered for hub', env: 'HUB_CLIENT_ID'}),
    scope: Flags.string({description: 'scopes to request [default: openid profile offline_access]', env: 'HUB_SCOPE'}),
    audience: Flags.string({
      description: 'API the access token is for (audience / resource indicator) [default: https://REGISTRY]',
      env: 'HUB_AUDIENCE',
    }),
    yes: Flags.boolean({
      char: 'y',
      description: "sign in at the identity provider the registry names without asking, even when it is not on the registry's domain",
    }),
    port: Flags.integer({description: 'port of the loopback redirect (default: any free port)', min: 1, max: 65_535}),
    timeout: Flags.integer({description: 'seconds to wait for the sign-in', default: 300, min: 1}),
    'with-token': Flags.boolean({
      description: 'store an access token read from stdin (checked with the registry first), for scripts',
      exclusive: ['device', 'client-credentials'],
    }),
    'client-credentials': Flags.boolean({
      description: 'log in as a machine account: --client-id, and the secret from HUB_CLIENT_SECRET or stdin (never an argument)',
      exclusive: ['device', 'with-token'],
    }),
    device: Flags.boolean({
      description: 'sign in with a code on another device (OAuth device flow); chosen anyway when no browser can open here',
    }),
    'insecure-storage': Flags.boolean({description: 'keep tokens in a plain 0600 file instead of the OS keychain'}),
    'docker-config': Flags.string({
      description: "docker's config folder to add the credential helper entry to, or 'none' [default: $DOCKER_CONFIG or ~/.docker]",
    }),
    'containers-auth': Flags.string({
      description:
        "podman's and buildah's auth file to add the credential helper entry to, or 'none' [default: $REGISTRY_AUTH_FILE or $XDG_RUNTIME_DIR/containers/auth.json, when podman or buildah is installed or the file exists]",
    }),
  };

  async run(): Promise<LoginResult> {
    const {args, flags} = await this.parse(Login);
    const credential = flags['with-token']
      ? {
          kind: 'access-token' as const,
          value: await secretFromStdin(
            'the access token',
            'pipe it in: `hub token | hub login REGISTRY --with-token` or `hub login --with-token < token.txt`',
          ),
        }
      : flags['client-credentials']
        ? {
            kind: 'client-secret' as const,
            value:
              process.env.HUB_CLIENT_SECRET?.trim() ||
              (await secretFromStdin('the client secret', 'set HUB_CLIENT_SECRET, or pipe the secret in')),
          }
        : undefined;
    const {login} = await import('../flows/login.js');
    const abort = new AbortController();
    const cancel = () => abort.abort();
    process.once('SIGINT', cancel);
    try {
      return await login(this.hub, {
        registry: args.registry,
        issuer: flags.issuer,
        clientId: flags['client-id'],
        scope: flags.scope,
        audience: flags.audience,
        yes: flags.yes,
        port: flags.port,
        timeoutSeconds: flags.timeout,
        insecureStorage: flags['insecure-storage'],
        dockerConfig: flags['docker-config'],
        containersAuth: flags['containers-auth'],
        device: flags.device,
        credential,
        signal: abort.signal,
      });
    } finally {
      process.off('SIGINT', cancel);
    }
  }
}
