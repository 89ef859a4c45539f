#!/usr/bin/env bash
# Mail interop suite (npm run test:mail): DNSSEC-signed test zones in Knot, Unbound validating
# them, MX/SRV/TLSA/TXT pointing at the interop suite's real Postfix, Dovecot and nginx on
# 127.0.0.1 high ports; certwatch's mail check against all of it. Needs root on Debian.
# See docs/mail.md "Real-server suite".
#   bash test/mail-interop/run.sh [--keep]
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)

echo "== mail-interop: install servers"
bash test/mail-interop/install.sh
installed=$(date +%s)

run_dir=$(mktemp -d /tmp/certwatch-mail.XXXXXX)
chmod 755 "$run_dir" # daemons drop privileges and must reach their files below it
echo "== mail-interop: certificates in $run_dir/certs"
bash test/interop/certs.sh "$run_dir/certs"

echo "== mail-interop: servers and checks"
status=0
node test/mail-interop/suite.ts --dir "$run_dir" "$@" || status=$?

if [[ $status -eq 0 && " $* " != *" --keep "* ]]; then
  rm -rf "$run_dir"
else
  echo "mail-interop: configs and logs kept in $run_dir"
fi
end=$(date +%s)
echo "mail-interop: install $((installed - start)) s, suite $((end - installed)) s, total $((end - start)) s"
exit $status
