#!/usr/bin/env bash
# Prepares a fresh Debian/Ubuntu machine for hub's development, tests and demo:
# the Debian packages the end-to-end tests run for real, the npm dependencies, and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  chromium                # the browser the tests drive through HUB_BROWSER
  gnome-keyring           # a real Secret Service
  dbus                    # dbus-daemon, dbus-send
  libsecret-tools         # secret-tool: the tests read the keychain without hub
  procps                  # pkill: the tests freeze the keyring daemon
  docker.io               # dockerd and the docker CLI: the engine hub drives
  docker-registry         # CNCF distribution 2.8, with token auth against hub-auth
  podman buildah          # the containers tools, which find hub's helper through their auth file
  containerd              # containerd and ctr, which has no credential helpers: the README's way with hub token
  golang-docker-credential-helpers  # docker-credential-secretservice, the baseline in the benchmarks
  apache2-utils           # htpasswd: the benchmark's basic-auth registry
  bsdutils                # script: runs hub under a pseudo-terminal in the progress tests
  tmux                    # a terminal that draws what hub prints there: the progress tests read its screen
  openssl                 # the proxy tests' private CA and https provider
  glewlwyd                # a real OpenID provider for the provider suite (SQLite, its own config per run)
  sqlite3                 # creates glewlwyd's database with the package's own SQL script
  postgresql              # hub-auth's store on a server: the tests run initdb and pg_ctl (packages/test-stack/src/postgres.ts)
  # LemonLDAP::NG, a real OpenID provider for the provider suite: its portal under the FastCGI
  # server behind nginx, its people in SQLite (DBI), and the modules its default portal loads
  # (apt would install them as Recommends: captcha, issuer, registration and mail, TOTP)
  lemonldap-ng lemonldap-ng-fastcgi-server nginx libdbi-perl libdbd-sqlite3-perl
  libstring-random-perl libio-string-perl libgd-securityimage-perl libgd-perl libimage-magick-perl
  libmime-tools-perl libemail-sender-perl libconvert-base32-perl libdigest-hmac-perl libcrypt-openssl-bignum-perl
  libnet-ldap-perl libipc-run-perl libio-socket-timeout-perl libunicode-string-perl
)
programs=(chromium gnome-keyring-daemon dbus-daemon dbus-send secret-tool pkill dockerd docker docker-registry podman buildah containerd ctr docker-credential-secretservice htpasswd script tmux openssl glewlwyd sqlite3 llng-fastcgi-server nginx)

missing=()
for program in "${programs[@]}"; do command -v "$program" >/dev/null || missing+=("$program"); done
# Debian keeps the server's programs off PATH, under its major version.
compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || missing+=(initdb pg_ctl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages (missing: ${missing[*]})"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${packages[@]}"
fi

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<18)) {console.error("hub needs Node.js >= 20.18, found "+process.version); process.exit(1)}'
npm ci --no-audit --no-fund
npm run build
echo "setup: done. Run the tests with: npm test"
