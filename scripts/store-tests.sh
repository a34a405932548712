#!/usr/bin/env bash
# Runs the store tests against a private, throw-away MariaDB:
#
#   scripts/store-tests.sh BUILD_DIR [gtest args...]
#
# Starts a server in a fresh temporary directory (scripts/mariadb.sh),
# exports its MYSQL_* settings, runs BUILD_DIR/store_tests with the extra
# arguments, and deletes the server and its data on exit, whatever happens.
# Exits with the tests' status; non-zero with a message if the database
# cannot be started.
set -euo pipefail

build_dir=${1:?usage: store-tests.sh BUILD_DIR [gtest args...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
tests="$build_dir/store_tests"
if [ ! -x "$tests" ]; then
  echo "store-tests.sh: $tests not found; build first (ninja -C $build_dir)" >&2
  exit 2
fi

db_dir=$(mktemp -d "${TMPDIR:-/tmp}/authd-store-tests.XXXXXX")
cleanup() { "$here/mariadb.sh" wipe "$db_dir" >/dev/null 2>&1 || rm -rf "$db_dir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! "$here/mariadb.sh" start "$db_dir"; then
  echo "store-tests.sh: could not start a private MariaDB in $db_dir" >&2
  exit 3
fi

set -a
# shellcheck disable=SC1091
. "$db_dir/env.run"
set +a

status=0
"$tests" "$@" || status=$?
exit "$status"
