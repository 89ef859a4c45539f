#!/usr/bin/env bash
# Installs the real servers the interop suite talks to, from Debian's packages, idempotently.
# Service auto-start is blocked for the whole install (policy-rc.d exits 101, see
# /usr/share/doc/init-system-helpers/README.policy-rc.d), so no daemon ends up on a standard port.
set -euo pipefail

# shellcheck source=../lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/apt.sh"

packages=(
  openssl ca-certificates iproute2 procps
  postfix
  dovecot-core dovecot-imapd dovecot-pop3d dovecot-managesieved dovecot-lmtpd
  vsftpd
  slapd
  nginx-light
  postgresql
  mariadb-server
  prosody
  inn2
)

begin_install "certwatch interop" "${packages[@]}" || exit 0

export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself; "No configuration" keeps it from writing a live main.cf.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# INN asks for a server name only when it cannot derive one; give it one anyway.
echo "inn2 inn2/mailing-list-host string localhost" | debconf-set-selections 2>/dev/null || true

# INN's postinst runs innconfval, which fails when the host name has no domain (CI machines
# are often called "vm"): give inn.conf a domain and finish the configuration.
fix_inn() {
  local conf=/etc/news/inn.conf
  echo "install: inn2's postinst fails on a host name without a domain; setting one and finishing"
  if [[ -f $conf ]] && ! grep -q '^domain:' "$conf"; then
    printf 'domain: certwatch.test\n' >>"$conf"
  fi
  dpkg --configure -a
}
apt_update_if_stale
if ! apt_install_missing; then
  fix_inn || true
  # A stale list names package versions the mirror no longer has: refresh once and retry.
  apt_install_missing || { apt-get update -q; apt_install_missing || fix_inn; }
fi
require_installed "${packages[@]}"
echo "install: done"
