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

begin_install "certwatch mail interop" "${packages[@]}" || exit 0
export DEBIAN_FRONTEND=noninteractive
# "No configuration" keeps Postfix from writing a live main.cf.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
install_missing
require_installed "${packages[@]}"
echo "install: done"
