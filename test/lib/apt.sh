# Sourced by the install.sh of test/interop, test/mail-interop and test/backends: install Debian packages
# idempotently without letting any of them start a daemon.

# dpkg's own view: "install ok installed" and nothing else counts.
pkg_installed() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)
  [[ $status == "install ok installed" ]]
}

# Sets MISSING to the packages among "$@" that are not installed.
missing_packages() {
  MISSING=()
  local p
  for p in "$@"; do pkg_installed "$p" || MISSING+=("$p"); done
}

# Blocks service start from maintainer scripts until the shell exits (policy-rc.d exits 101,
# see /usr/share/doc/init-system-helpers/README.policy-rc.d), then puts back whatever policy
# was there before. $1 names the caller in the generated file.
block_service_start() {
  POLICY=/usr/sbin/policy-rc.d
  POLICY_BACKUP=""
  if [[ -e $POLICY ]]; then
    POLICY_BACKUP=$(mktemp)
    cp -p "$POLICY" "$POLICY_BACKUP"
  fi
  trap restore_service_policy EXIT
  printf '#!/bin/sh\n# %s: never start services from maintainer scripts\nexit 101\n' "$1" >"$POLICY"
  chmod 755 "$POLICY"
}

restore_service_policy() {
  if [[ -n $POLICY_BACKUP ]]; then mv -f "$POLICY_BACKUP" "$POLICY"; else rm -f "$POLICY"; fi
}

# Package lists younger than 6 hours that actually contain a Packages index.
apt_lists_fresh() {
  compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null &&
    [[ -n $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -360 -print -quit) ]]
}

apt_update_if_stale() {
  apt_lists_fresh || apt-get update -q
}

# Installs MISSING without recommends, keeping any existing configuration files.
apt_install_missing() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${MISSING[@]}"
}

# Fails naming the first of "$@" that is still not installed.
require_installed() {
  local p
  for p in "$@"; do
    if ! pkg_installed "$p"; then
      echo "install: $p is not installed" >&2
      return 1
    fi
  done
}

# The start of every install script: sets MISSING from "$@" (after the caller's name in $1);
# returns 1 when nothing is missing (the caller then exits 0), exits when not root, and
# otherwise blocks service start for the rest of the install.
begin_install() {
  local who=$1
  shift
  missing_packages "$@"
  if [[ ${#MISSING[@]} -eq 0 ]]; then
    echo "install: all $# packages already installed"
    return 1
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "install.sh: missing ${MISSING[*]}; must run as root to install them" >&2
    exit 1
  fi
  echo "install: missing ${MISSING[*]}"
  block_service_start "$who"
}

# Installs MISSING; a stale package list names versions the mirror no longer has, so on
# failure the list is refreshed once and the install retried.
install_missing() {
  apt_update_if_stale
  apt_install_missing || { apt-get update -q && apt_install_missing; }
}
