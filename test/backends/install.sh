#!/usr/bin/env bash
# Installs the servers the backend suite talks to (redis-server, postgresql) from Debian's
# packages, idempotently. Same approach as test/interop/install.sh: service auto-start is
# blocked for the whole install (policy-rc.d exits 101, see
# /usr/share/doc/init-system-helpers/README.policy-rc.d), so no daemon lands on 6379/5432.
set -euo pipefail

# shellcheck source=../lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/apt.sh"

packages=(redis-server postgresql procps iproute2)

missing_packages "${packages[@]}"
if [[ ${#MISSING[@]} -eq 0 ]]; then
  echo "install: all ${#packages[@]} packages already installed"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install.sh: missing ${MISSING[*]}; must run as root to install them" >&2
  exit 1
fi
echo "install: missing ${MISSING[*]}"

block_service_start "certwatch backends"
apt_update_if_stale
# A stale list names package versions the mirror no longer has: refresh once and retry.
apt_install_missing || { apt-get update -q && apt_install_missing; }
require_installed "${packages[@]}"
echo "install: done"
