#!/usr/bin/env bash
# Installs the real servers the interop suite talks to, from Debian's packages, idempotently.
# Service auto-start is blocked for the whole install (policy-rc.d exits 101, see
# /usr/share/doc/init-system-helpers/README.policy-rc.d), so no daemon ends up on a standard port.
set -euo pipefail

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

if [[ $(id -u) -ne 0 ]]; then
  echo "install.sh: must run as root (apt-get install)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install: all ${#packages[@]} packages already installed"
  exit 0
fi
echo "install: missing ${missing[*]}"

# Block service start for the duration of the install; put back whatever was there before.
policy=/usr/sbin/policy-rc.d
backup=""
if [[ -e $policy ]]; then
  backup=$(mktemp)
  cp -p "$policy" "$backup"
fi
restore_policy() {
  if [[ -n $backup ]]; then mv -f "$backup" "$policy"; else rm -f "$policy"; fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# certwatch interop: never start services from maintainer scripts\nexit 101\n' >"$policy"
chmod 755 "$policy"

export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself; "No configuration" keeps it from writing a live main.cf.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# INN asks for a server name only when it cannot derive one; give it one anyway.
echo "inn2 inn2/mailing-list-host string localhost" | debconf-set-selections 2>/dev/null || true

lists_fresh() {
  # Package lists younger than 6 hours that actually contain a Packages index.
  compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null &&
    [[ -n $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -360 -print -quit) ]]
}
apt_install() {
  apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
}
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
if ! lists_fresh; then
  apt-get update -q
fi
if ! apt_install; then
  fix_inn || true
  # A stale list names package versions the mirror no longer has: refresh once and retry.
  apt_install || { apt-get update -q; apt_install || fix_inn; }
fi
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  if [[ $status != "install ok installed" ]]; then
    echo "install: $p is not installed ($status)" >&2
    exit 1
  fi
done
echo "install: done"
