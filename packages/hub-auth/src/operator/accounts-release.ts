import {ConfigError} from '../config.js';
import type {Holder} from '../holder.js';
import {adminClient} from './admin-client.js';
import {operatorArguments} from './arguments.js';

export const ACCOUNTS_USAGE = `Usage: hub-auth accounts release NAME --config FILE [--to ISS SUB]

Frees the account name NAME, or gives it to another person (--to), and ends every session of its
old holder for it, in one transaction: their identity tokens are refused from then on, and never
claim the name again. Without --to, the next person who signs in with that username gets it.

  -c, --config FILE   the running instance's configuration: its monitoring address and admin credential
  --to ISS SUB        the new holder: the identity provider's issuer and their sub
  -h, --help          this help
`;

interface Released {
  account: string;
  from: Holder;
  to: Holder | null;
  ended: number;
}

export async function accountsRelease(args: string[]): Promise<number> {
  const {configFile, positionals, pairs} = operatorArguments(args, {pairs: ['to']}, 'hub-auth accounts --help');
  const [action, account, ...extra] = positionals;
  if (action !== 'release' || account === undefined || extra.length > 0)
    throw new ConfigError(`accounts takes one action, release NAME (got ${positionals.join(' ') || 'none'})`);
  const to = pairs.to && {issuer: pairs.to[0], subject: pairs.to[1]};
  const released = await (await adminClient(configFile)).call<Released>('POST', '/accounts/release', {account, ...(to ? {to} : {})});
  const from = `${released.from.issuer} ${released.from.subject}`;
  const sessions = `${released.ended} session${released.ended === 1 ? '' : 's'} of it ended`;
  process.stdout.write(
    released.to
      ? `gave account ${account} to ${released.to.issuer} ${released.to.subject} (held by ${from}); ${sessions}\n`
      : `released account ${account} (held by ${from}); ${sessions}\n`,
  );
  return 0;
}
