#!/usr/bin/env bash
# The npm packages of package.json, exactly as package-lock.json pins them,
# into node_modules/ (git-ignored): the OpenAPI linter (spectral) and the
# Swagger UI files that scripts/build-docs.sh copies.
#
#   scripts/npm-deps.sh            `npm ci` unless node_modules matches the lockfile
#   scripts/npm-deps.sh --check    only report; exit 1 when it does not
#
# `npm ci` runs only when package.json or package-lock.json changed since
# the last successful install (a stamp in node_modules/), so it costs
# nothing on later runs. Install scripts are not run (--ignore-scripts):
# none of these packages needs one, and swagger-ui-dist's dependency would
# otherwise report the install to its vendor.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
mode=${1:-install}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "npm-deps: node and npm are needed (scripts/install-deps.sh installs them)" >&2
  exit 1
fi

stamp=node_modules/.authd-lock.sha256
want=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  echo "npm-deps: node_modules matches package-lock.json"
  exit 0
fi
if [[ $mode == --check ]]; then
  echo "npm-deps: node_modules is missing or older than package-lock.json" >&2
  exit 1
fi
echo "npm-deps: npm ci (node $(node --version), npm $(npm --version))"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
