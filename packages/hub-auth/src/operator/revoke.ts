import {ConfigError} from '../config.js';
import {adminClient} from './admin-client.js';
import {operatorArguments} from './arguments.js';

export const REVOKE_USAGE = `Usage: hub-auth revoke --config FILE (--account NAME | --subject ISS SUB | --session ID)

Ends sign-in sessions, on every instance that shares the store: their identity tokens (docker's
refresh tokens) are refused from the next request. Registry tokens already handed out end with
their own lifetime (tokenLifetimeSeconds).

  -c, --config FILE     the running instance's configuration: its monitoring address and admin credential
  --account NAME        every session of this account
  --subject ISS SUB     every session of this person: the identity provider's issuer and their sub
  --session ID          one session, as hub-auth sessions list shows it
  -h, --help            this help
`;

export async function revoke(args: string[]): Promise<number> {
  const {configFile, values, positionals, pairs} = operatorArguments(
    args,
    {strings: ['account', 'session'], pairs: ['subject']},
    'hub-auth revoke --help',
  );
  if (positionals.length > 0)
    throw new ConfigError(`revoke takes no ${positionals.join(' ')}: name what to revoke with --account, --subject or --session`);
  const targets = [
    typeof values.account === 'string' && {target: {account: values.account}, what: `account ${values.account}`},
    pairs.subject && {
      target: {issuer: pairs.subject[0], subject: pairs.subject[1]},
      what: `subject ${pairs.subject[1]} of ${pairs.subject[0]}`,
    },
    typeof values.session === 'string' && {target: {session: values.session}, what: `session ${values.session}`},
  ].filter((given) => given !== false && given !== undefined);
  if (targets.length !== 1) throw new ConfigError('revoke needs one of --account NAME, --subject ISS SUB or --session ID');
  const {target, what} = targets[0]!;
  const {ended} = await (await adminClient(configFile)).call<{ended: number}>('POST', '/revoke', target);
  process.stdout.write(
    ended === 0 ? `no live sessions of ${what}: nothing to revoke\n` : `revoked ${ended} session${ended === 1 ? '' : 's'} of ${what}\n`,
  );
  return 0;
}
