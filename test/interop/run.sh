#!/usr/bin/env bash
# Real-server interop suite (npm run test:interop). Needs root on Debian: installs the servers
# from Debian's packages, runs each on 127.0.0.1 high ports under one temporary directory, checks
# every endpoint with certwatch and openssl, and stops what it started. See docs/interop.md.
#   bash test/interop/run.sh [--only nginx,postgres] [--keep]
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)

echo "== interop: install servers"
bash test/interop/install.sh
installed=$(date +%s)

run_dir=$(mktemp -d /tmp/certwatch-interop.XXXXXX)
chmod 755 "$run_dir" # daemons drop privileges and must reach their files below it
echo "== interop: certificates in $run_dir/certs"
bash test/interop/certs.sh "$run_dir/certs"

echo "== interop: servers and checks"
status=0
node test/interop/suite.ts --dir "$run_dir" "$@" || status=$?

if [[ $status -eq 0 && " $* " != *" --keep "* ]]; then
  rm -rf "$run_dir"
else
  echo "interop: configs and logs kept in $run_dir"
fi
end=$(date +%s)
echo "interop: install $((installed - start)) s, suite $((end - installed)) s, total $((end - start)) s"
exit $status
