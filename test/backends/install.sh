#!/usr/bin/env bash
# Installs the servers the backend suite talks to (redis-server, postgresql) from Debian's
# packages, idempotently. Same approach as test/interop/install.sh: service auto-start is
# blocked for the whole install (policy-rc.d exits 101, see
# /usr/share/doc/init-system-helpers/README.policy-rc.d), so no daemon lands on 6379/5432.
set -euo pipefail

# shellcheck source=../lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/apt.sh"

packages=(redis-server postgresql procps iproute2)

begin_install "certwatch backends" "${packages[@]}" || exit 0
install_missing
require_installed "${packages[@]}"
echo "install: done"
