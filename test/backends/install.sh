#!/usr/bin/env bash
# Installs the servers the backend suite talks to (redis-server, postgresql) from Debian's
# packages, idempotently. Same approach as test/interop/install.sh: service auto-start is
# blocked for the whole install (policy-rc.d exits 101, see
# /usr/share/doc/init-system-helpers/README.policy-rc.d), so no daemon lands on 6379/5432.
set -euo pipefail

packages=(redis-server postgresql procps iproute2)

installed() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)
  [[ $status == "install ok installed" ]]
}

missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install: all ${#packages[@]} packages already installed"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install.sh: missing ${missing[*]}; must run as root to install them" >&2
  exit 1
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
printf '#!/bin/sh\n# certwatch backends: never start services from maintainer scripts\nexit 101\n' >"$policy"
chmod 755 "$policy"

export DEBIAN_FRONTEND=noninteractive
lists_fresh() {
  # Package lists younger than 6 hours that actually contain a Packages index.
  compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null &&
    [[ -n $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -360 -print -quit) ]]
}
apt_install() {
  apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
}
if ! lists_fresh; then
  apt-get update -q
fi
# A stale list names package versions the mirror no longer has: refresh once and retry.
apt_install || { apt-get update -q && apt_install; }
for p in "${packages[@]}"; do
  if ! installed "$p"; then
    echo "install: $p is not installed" >&2
    exit 1
  fi
done
echo "install: done"
