#!/usr/bin/env bash
# Real-server interop suite (npm run test:interop). Needs root on Debian: installs the servers
# from Debian's packages, runs each on 127.0.0.1 high ports under one temporary directory, checks
# every endpoint with certwatch and openssl, and stops what it started. See docs/interop.md.
#   bash test/interop/run.sh [--only nginx,postgres] [--keep]
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../lib/suite.sh
source test/lib/suite.sh
run_suite interop test/interop/install.sh test/interop/suite.ts "$@"
