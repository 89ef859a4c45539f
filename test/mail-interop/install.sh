#!/usr/bin/env bash
# Installs what the mail interop suite adds to the interop servers (Postfix, Dovecot, nginx):
# Knot DNS (authoritative, signs the test zones) and Unbound (validating resolver), from
# Debian's packages, idempotently and without letting any of them start a daemon.
set -euo pipefail

# shellcheck source=../lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/apt.sh"

packages=(
  openssl ca-certificates iproute2 procps
  postfix
  dovecot-core dovecot-imapd dovecot-pop3d dovecot-managesieved dovecot-lmtpd
  nginx-light
  knot
  unbound
)

if [[ $(id -u) -ne 0 ]]; then
  echo "install.sh: must run as root (apt-get install)" >&2
  exit 1
fi

missing_packages "${packages[@]}"
if [[ ${#MISSING[@]} -eq 0 ]]; then
  echo "install: all ${#packages[@]} packages already installed"
  exit 0
fi
echo "install: missing ${MISSING[*]}"

block_service_start "certwatch mail interop"
export DEBIAN_FRONTEND=noninteractive
# "No configuration" keeps Postfix from writing a live main.cf.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt_update_if_stale
# A stale list names package versions the mirror no longer has: refresh once and retry.
apt_install_missing || { apt-get update -q; apt_install_missing; }
require_installed "${packages[@]}"
echo "install: done"
