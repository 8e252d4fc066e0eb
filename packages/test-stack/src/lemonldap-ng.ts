import {generateKeyPairSync} from 'node:crypto';
import {chmod, chown, mkdir, readdir, readFile, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import {freePort, waitFor} from './ports.js';
import {startDaemon} from './process.js';

/**
 * Debian's LemonLDAP::NG 2.16 portal as an OpenID provider, run the way its documentation runs
 * it: the portal's PSGI app in `llng-fastcgi-server`, behind nginx with the package's
 * portal-nginx.conf, its configuration in the File backend (lmConf-N.json) named by a
 * lemonldap-ng.ini of its own (LLNG_DEFAULTCONFFILE), sessions in Apache::Session::File
 * folders, people in an SQLite database read by the DBI authentication and user backends.
 * Everything lives under `dir`; nginx listens on a free loopback port.
 */

/** The Debian packages' programs and files (scripts/setup.sh installs them). */
export const LEMONLDAP_PROGRAMS = ['llng-fastcgi-server', 'nginx'];
const SHIPPED_CONFIGURATION = '/var/lib/lemonldap-ng/conf/lmConf-1.json';
const PORTAL_ROOT = '/usr/share/lemonldap-ng/portal/htdocs';
/** nobody/nogroup, as whom the portal runs when the tests run as root. */
const NOBODY = 65_534;

/** A relying party as the manager's "OpenID Connect Relying Parties" tree describes it. */
export interface RelyingParty {
  clientId: string;
  /** Absent for a public client. */
  clientSecret?: string;
  redirectUris?: string[];
  /** Further options (oidcRPMetaDataOptions*, without the prefix) as the manager names them. */
  options?: Record<string, string | number>;
  /** Claim → session attribute ("Exported attributes"). */
  claims?: Record<string, string>;
}

export interface Person {
  username: string;
  password: string;
  name: string;
  email: string;
}

export interface LemonLdapNg {
  /** The portal's URL, which is also its issuer. */
  issuer: string;
  port: number;
  /** How long the portal took from start to answering its discovery document (ms). */
  startupMs: number;
  /** Changes the configuration as the manager does (a new lmConf-N.json); resolves once the portal uses it. */
  reconfigure(change: (configuration: Record<string, unknown>) => void): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

export async function startLemonLdapNg(dir: string, relyingParties: Record<string, RelyingParty>, people: Person[]): Promise<LemonLdapNg> {
  const started = performance.now();
  const port = await freePort();
  const portal = `http://127.0.0.1:${port}/`;
  const paths = {
    ini: join(dir, 'lemonldap-ng.ini'),
    conf: join(dir, 'conf'),
    sessions: join(dir, 'sessions'),
    psessions: join(dir, 'psessions'),
    cache: join(dir, 'cache'),
    nginx: join(dir, 'nginx'),
    socket: join(dir, 'llng-fastcgi.sock'),
    users: join(dir, 'users.sqlite'),
  };
  for (const folder of [paths.conf, join(paths.sessions, 'lock'), join(paths.psessions, 'lock'), paths.cache, join(paths.nginx, 'temp')]) {
    await mkdir(folder, {recursive: true});
  }
  await writeFile(paths.ini, iniFile(paths));
  await createUserDatabase(paths.users, people);
  let configuration = await portalConfiguration(portal, paths, relyingParties);
  await writeFile(join(paths.conf, 'lmConf-1.json'), JSON.stringify(configuration, null, 2));
  await writeFile(join(paths.nginx, 'nginx.conf'), nginxConf(port, paths));

  // llng-fastcgi-server refuses to run as root; like the Debian service, run it as an
  // unprivileged user that owns its files (nginx's workers are that user too).
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await handOver(dir, NOBODY, NOBODY);
  const env = {
    PATH: process.env.PATH,
    LLNG_DEFAULTCONFFILE: paths.ini,
    // The portal's log goes to its output (a file here) instead of syslog.
    LLNG_DEFAULTLOGGER: 'Lemonldap::NG::Common::Logger::Std',
  };
  const fastcgi = startDaemon(
    'llng-fastcgi-server',
    // One worker (the default is 7): plenty for one test run on a small machine.
    [
      '--foreground',
      '--socket',
      paths.socket,
      '--pid',
      join(dir, 'llng-fastcgi.pid'),
      '--proc',
      '1',
      ...(asRoot ? ['--user', 'nobody', '--group', 'nogroup'] : []),
    ],
    {env, logFile: join(dir, 'llng-fastcgi.log')},
  );
  const nginx = startDaemon(
    'nginx',
    ['-p', paths.nginx, '-c', join(paths.nginx, 'nginx.conf'), '-e', join(paths.nginx, 'error.log'), '-g', 'daemon off;'],
    {
      env: {PATH: process.env.PATH},
      logFile: join(dir, 'nginx.log'),
    },
  );
  const output = () => `${fastcgi.output()}\n${nginx.output()}`;
  const stop = async () => {
    await Promise.all([nginx.stop(), fastcgi.stop()]);
  };
  let failed: string | undefined;
  try {
    // The portal compiles on its first request: the discovery document is the warm-up.
    await waitFor(
      'LemonLDAP::NG',
      async () => {
        for (const daemon of [fastcgi, nginx]) {
          if (daemon.child.exitCode !== null) throw new Error(`exited: ${output()}`);
        }
        const response = await fetch(`${portal}.well-known/openid-configuration`);
        // A portal that fails to initialise answers 500 for good: stop waiting and say why.
        if (response.status === 500) failed = `the portal answered HTTP 500:\n${fastcgi.output().slice(-4000)}`;
        return failed !== undefined || (response.ok && ((await response.json()) as {issuer?: string}).issuer === portal);
      },
      60_000,
    );
    if (failed) throw new Error(`LemonLDAP::NG did not start: ${failed}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    issuer: portal,
    port,
    startupMs: Math.round(performance.now() - started),
    async reconfigure(change) {
      configuration = structuredClone(configuration);
      change(configuration);
      configuration.cfgNum = (configuration.cfgNum as number) + 1;
      const file = join(paths.conf, `lmConf-${configuration.cfgNum}.json`);
      await writeFile(file, JSON.stringify(configuration, null, 2));
      if (asRoot) await chown(file, NOBODY, NOBODY);
      // The portal looks for a newer configuration on the first request once checkTime (1 s,
      // whole seconds, compared with >) has passed since its last look: after 2 s, one request
      // makes it load this one before it answers.
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const reloaded = await fetch(`${portal}.well-known/openid-configuration`);
      if (!reloaded.ok)
        throw new Error(`LemonLDAP::NG did not take its new configuration: HTTP ${reloaded.status}\n${fastcgi.output().slice(-4000)}`);
    },
    output,
    stop,
  };
}

function iniFile(paths: {conf: string; cache: string}): string {
  return `[all]
logLevel = notice
logger = Lemonldap::NG::Common::Logger::Std
userLogger = Lemonldap::NG::Common::Logger::Std
checkTime = 1

[configuration]
type = File
dirName = ${paths.conf}

[portal]
staticPrefix = /static
templateDir = /usr/share/lemonldap-ng/portal/templates
languages = en

[handler]
status = 0
`;
}

/**
 * The package's default configuration, moved into `dir` and onto this portal's URL, with the
 * people in SQLite (DBI) instead of the built-in Demo accounts, and the OpenID Connect issuer
 * switched on as the manager does it: a signing key, the issuer module, the relying parties.
 */
async function portalConfiguration(
  portal: string,
  paths: {sessions: string; psessions: string; cache: string; users: string},
  relyingParties: Record<string, RelyingParty>,
) {
  const shipped = JSON.parse(await readFile(SHIPPED_CONFIGURATION, 'utf8')) as Record<string, unknown>;
  const {privateKey, publicKey} = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: {type: 'pkcs1', format: 'pem'},
    publicKeyEncoding: {type: 'spki', format: 'pem'},
  });
  const options: Record<string, Record<string, unknown>> = {};
  const exportedVars: Record<string, Record<string, string>> = {};
  for (const [name, rp] of Object.entries(relyingParties)) {
    options[name] = {
      oidcRPMetaDataOptionsClientID: rp.clientId,
      ...(rp.clientSecret ? {oidcRPMetaDataOptionsClientSecret: rp.clientSecret} : {oidcRPMetaDataOptionsPublic: 1}),
      ...(rp.redirectUris ? {oidcRPMetaDataOptionsRedirectUris: rp.redirectUris.join(' ')} : {}),
      ...Object.fromEntries(Object.entries(rp.options ?? {}).map(([key, value]) => [`oidcRPMetaDataOptions${key}`, value])),
    };
    exportedVars[name] = rp.claims ?? {};
  }
  return {
    ...shipped,
    cfgNum: 1,
    portal,
    // A host-only cookie on 127.0.0.1: the shipped example.com would never reach this portal.
    domain: '127.0.0.1',
    globalStorageOptions: {
      ...(shipped.globalStorageOptions as object),
      Directory: paths.sessions,
      LockDirectory: join(paths.sessions, 'lock'),
    },
    persistentStorageOptions: {Directory: paths.psessions, LockDirectory: join(paths.psessions, 'lock')},
    localSessionStorageOptions: {...(shipped.localSessionStorageOptions as object), cache_root: paths.cache},
    locationRules: {'127.0.0.1': {default: 'accept'}},
    authentication: 'DBI',
    userDB: 'Same',
    passwordDB: 'DBI',
    registerDB: 'Null',
    dbiAuthChain: `dbi:SQLite:dbname=${paths.users}`,
    dbiAuthUser: '',
    dbiAuthPassword: '',
    dbiAuthTable: 'users',
    dbiAuthLoginCol: 'login',
    dbiAuthPasswordCol: 'password',
    // No hash: the SQL hash functions LemonLDAP::NG calls (SHA256() …) do not exist in SQLite.
    dbiAuthPasswordHash: '',
    dbiExportedVars: {uid: 'login', cn: 'name', mail: 'mail'},
    issuerDBOpenIDConnectActivation: 1,
    oidcServicePrivateKeySig: privateKey,
    oidcServicePublicKeySig: publicKey,
    oidcServiceKeyIdSig: 'llng-e2e',
    oidcRPMetaDataOptions: options,
    oidcRPMetaDataExportedVars: exportedVars,
  };
}

/** The package's portal-nginx.conf, on a loopback port, with every path under `dir`. */
function nginxConf(port: number, paths: {nginx: string; socket: string}): string {
  const temp = join(paths.nginx, 'temp');
  return `pid ${join(paths.nginx, 'nginx.pid')};
worker_processes 1;
error_log ${join(paths.nginx, 'error.log')} warn;
events { worker_connections 64; }
http {
  include /etc/nginx/mime.types;
  access_log ${join(paths.nginx, 'access.log')};
  client_body_temp_path ${temp}/body;
  fastcgi_temp_path ${temp}/fastcgi;
  proxy_temp_path ${temp}/proxy;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  upstream llng_portal_upstream { server unix:${paths.socket}; }
  server {
    listen 127.0.0.1:${port};
    server_name 127.0.0.1;
    root ${PORTAL_ROOT}/;
    if ($uri !~ ^/((static|javascript|favicon).*|.*\\.psgi)) {
      rewrite ^/(.*)$ /index.psgi/$1 break;
    }
    location ~ ^(?<sc>/.*\\.psgi)(?:$|/) {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass llng_portal_upstream;
      fastcgi_param HTTP_HOST $host:$server_port;
      fastcgi_param LLTYPE psgi;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_split_path_info ^(.*\\.psgi)(/.*)$;
      fastcgi_param PATH_INFO $fastcgi_path_info;
    }
    index index.psgi;
    location / { try_files $uri $uri/ =404; }
    location /static/ { alias ${PORTAL_ROOT}/static/; }
    location /javascript/ { alias /usr/share/javascript/; }
  }
}
`;
}

/** Hands `dir` to that user, and lets it pass through the (private) folders above it up to the temporary folder. */
async function handOver(dir: string, uid: number, gid: number): Promise<void> {
  for (let parent = dirname(dir); parent.startsWith(`${tmpdir()}/`); parent = dirname(parent)) {
    await chmod(parent, (await stat(parent)).mode | 0o001);
  }
  await chown(dir, uid, gid);
  for (const entry of await readdir(dir, {withFileTypes: true, recursive: true})) {
    await chown(join(entry.parentPath, entry.name), uid, gid);
  }
}

/** The people, in the table the DBI backends read (created with Perl's DBI, which the portal uses too). */
async function createUserDatabase(file: string, people: Person[]): Promise<void> {
  const script = `
    use DBI;
    my $dbh = DBI->connect("dbi:SQLite:dbname=$ARGV[0]", "", "", {RaiseError => 1, AutoCommit => 1});
    $dbh->do("CREATE TABLE users (login TEXT PRIMARY KEY, password TEXT NOT NULL, name TEXT, mail TEXT)");
    my $insert = $dbh->prepare("INSERT INTO users VALUES (?, ?, ?, ?)");
    while (my $line = <STDIN>) { chomp $line; $insert->execute(split /\t/, $line); }
  `;
  const child = promisify(execFile)('perl', ['-e', script, file]);
  child.child.stdin!.end(people.map((p) => [p.username, p.password, p.name, p.email].join('\t')).join('\n') + '\n');
  await child;
}
