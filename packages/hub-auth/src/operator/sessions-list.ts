import {ConfigError} from '../config.js';
import {adminClient} from './admin-client.js';
import {operatorArguments} from './arguments.js';

export const SESSIONS_USAGE = `Usage: hub-auth sessions list --config FILE [--account NAME] [--limit N] [--json]

Lists the live sign-in sessions of the running instance (of every instance on one PostgreSQL):
who, since when, last used, from which client and address. Newest first, at most N (default 100,
at most 1000).

  -c, --config FILE   the running instance's configuration: its monitoring address and admin credential
  --account NAME      only this account's sessions
  --limit N           at most N sessions
  --json              the admin API's answer as it is
  -h, --help          this help
`;

interface Listed {
  sessions: Array<{
    id: string;
    account: string;
    issuer: string;
    subject: string;
    client: string;
    address: string;
    createdAt: string;
    lastUsedAt: string;
  }>;
  limit: number;
  complete: boolean;
}

export async function sessionsList(args: string[]): Promise<number> {
  const {configFile, values, positionals} = operatorArguments(
    args,
    {strings: ['account', 'limit'], booleans: ['json']},
    'hub-auth sessions list --help',
  );
  if (positionals.length !== 1 || positionals[0] !== 'list')
    throw new ConfigError(`sessions takes one action, list (got ${positionals.join(' ') || 'none'})`);
  const query = new URLSearchParams();
  if (typeof values.account === 'string') query.set('account', values.account);
  if (typeof values.limit === 'string') query.set('limit', values.limit);
  const listed = await (await adminClient(configFile)).call<Listed>('GET', `/sessions?${query}`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(listed, null, 2)}\n`);
    return 0;
  }
  if (listed.sessions.length === 0) {
    process.stderr.write(`no live sessions${typeof values.account === 'string' ? ` of account ${values.account}` : ''}\n`);
    return 0;
  }
  const rows = listed.sessions.map((s) => [
    s.account,
    when(s.createdAt),
    when(s.lastUsedAt),
    s.client,
    s.address,
    `${s.issuer} ${s.subject}`,
    s.id,
  ]);
  process.stdout.write(table([['ACCOUNT', 'SINCE', 'LAST USED', 'CLIENT', 'ADDRESS', 'ISSUER SUBJECT', 'SESSION'], ...rows]));
  if (!listed.complete) process.stderr.write(`the first ${listed.limit} only: --limit N (at most 1000) or --account NAME for others\n`);
  return 0;
}

function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Columns padded to their widest cell; what came from clients has its control characters taken out. */
function table(rows: string[][]): string {
  const clean = rows.map((row) => row.map((cell) => cell.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')));
  const widths = clean[0]!.map((_, column) => Math.max(...clean.map((row) => row[column]!.length)));
  return clean
    .map(
      (row) =>
        `${row
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}
