#!/usr/bin/env bash
# Mail interop suite (npm run test:mail): DNSSEC-signed test zones in Knot, Unbound validating
# them, MX/SRV/TLSA/TXT pointing at the interop suite's real Postfix, Dovecot and nginx on
# 127.0.0.1 high ports; certwatch's mail check against all of it. Needs root on Debian.
# See docs/mail.md "Real-server suite".
#   bash test/mail-interop/run.sh [--keep]
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../lib/suite.sh
source test/lib/suite.sh
run_suite mail-interop test/mail-interop/install.sh test/mail-interop/suite.ts "$@"
