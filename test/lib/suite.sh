# shellcheck shell=bash
# One real-server suite run, shared by test/interop/run.sh and test/mail-interop/run.sh:
# install the packages, make the test certificates in a fresh run directory, run the suite,
# keep the directory only on failure or --keep, print the timings, exit with the suite's status.
#   run_suite <name> <install.sh> <suite.ts> [suite arguments...]
run_suite() {
  local name=$1 install=$2 suite=$3
  shift 3
  local start installed end run_dir status=0
  # The project's Node 24 (npm package `node`) also when called as `bash test/.../run.sh`,
  # outside npm, on a machine whose system Node is older.
  PATH="$PWD/node_modules/.bin:$PATH"
  start=$(date +%s)

  echo "== $name: install servers"
  bash "$install"
  installed=$(date +%s)

  run_dir=$(mktemp -d "/tmp/certwatch-$name.XXXXXX")
  chmod 755 "$run_dir" # daemons drop privileges and must reach their files below it
  echo "== $name: certificates in $run_dir/certs"
  bash test/interop/certs.sh "$run_dir/certs"

  echo "== $name: servers and checks"
  node "$suite" --dir "$run_dir" "$@" || status=$?

  if [[ $status -eq 0 && " $* " != *" --keep "* ]]; then
    rm -rf "$run_dir"
  else
    echo "$name: configs and logs kept in $run_dir"
  fi
  end=$(date +%s)
  echo "$name: install $((installed - start)) s, suite $((end - installed)) s, total $((end - start)) s"
  exit $status
}
