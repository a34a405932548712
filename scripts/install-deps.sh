#!/usr/bin/env bash
# Installs the Debian 12 packages that `make build`, `make run` and
# `make test` need. Idempotent and quick when everything is present: it asks
# dpkg first and runs `apt-get update` + `apt-get install` only for what is
# missing. Needs root (or sudo) only when something must be installed.
#
#   scripts/install-deps.sh            install what is missing
#   scripts/install-deps.sh --check    only report; exit 1 if something is missing
#   scripts/install-deps.sh --list     print the package list
set -euo pipefail

# The one list. Keep it grouped by purpose.
PACKAGES=(
  # Build toolchain.
  build-essential cmake ninja-build ccache pkg-config
  # Libraries the worker links (headers + .pc files).
  libfcgi-dev        # FastCGI responder (the prefork pool)
  rapidjson-dev      # strict JSON parsing
  libsodium-dev      # Argon2id, random, constant-time compares, secretbox
  libmariadb-dev     # MySQL/MariaDB client (Connector/C)
  libzxcvbn-dev      # password strength estimate
  libutf8proc-dev    # NFKC normalisation of passwords
  liboath-dev        # TOTP (RFC 6238) for the second factor
  libqrencode-dev    # the otpauth URI as a QR code (SVG)
  libssl-dev         # SHA-256, HMAC, TLS
  libcurl4-openssl-dev  # SMTP delivery of the outbox (authd mailer)
  libfido2-dev       # passkeys: assertion signatures, COSE keys (WebAuthn)
  libcbor-dev        # passkeys: the attestationObject's CBOR
  # C++ unit tests.
  libgtest-dev libgmock-dev
  # Formatting (make format / format-check).
  clang-format
  # The sanitizer build and the libFuzzer targets (clang's ASan, UBSan and
  # libFuzzer runtimes).
  clang libclang-rt-14-dev
  # The local stack: private database, HTTP front, template rendering.
  mariadb-server mariadb-client   # scripts/mariadb.sh runs its own mariadbd
  # A Galera cluster of local processes (scripts/galera.sh, make cluster-test):
  # the replication library, rsync for a joining node's full copy (SST),
  # socat as a killable stand-in node in the store tests, iproute2's `ss`,
  # which the SST script uses to wait for its ports.
  galera-4 rsync socat iproute2
  nginx-light                     # realip, auth_request, limit_req, ssl
  gettext-base                    # envsubst for nginx/render.sh
  # End-to-end tests (Debian's /usr/bin/python3 and its modules; no PyPI).
  python3 python3-requests python3-pytest python3-jwt python3-pymysql
  python3-cryptography   # ES256 for python3-jwt (the outside JWKS verifier in e2e)
  python3-pyotp zbar-tools librsvg2-bin   # an outside TOTP generator; QR SVG decoded back
  python3-aiosmtpd   # the capturing SMTP server of the mail tests
  python3-cbor2 python3-fido2   # passkeys: forged credentials, python-fido2's verifier as a cross-check
  # Benchmark (make bench): load generator with Lua scripts, the plot.
  wrk gnuplot-nox
  # Scripts: secrets, health checks.
  openssl curl ca-certificates procps util-linux
  # API docs and metrics: node for the OpenAPI lint and the Swagger UI files
  # (npm packages: scripts/npm-deps.sh, run below), YAML → JSON, the e2e
  # checks of every response against the document, the metrics parser, and
  # the browser test of /docs (headless Chromium driven over CDP).
  nodejs python3-yaml python3-jsonschema python3-prometheus-client python3-websocket chromium
)
# Debian's npm only where there is no npm at all: some machines carry a newer
# node whose own npm conflicts with Debian's package.
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

mode=${1:-install}
case "$mode" in
  --list) printf '%s\n' "${PACKAGES[@]}"; exit 0 ;;
  --check | install) ;;
  *) echo "usage: install-deps.sh [--check|--list]" >&2; exit 2 ;;
esac

missing=()
while read -r pkg status; do
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done < <(
  for p in "${PACKAGES[@]}"; do
    s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    echo "$p ${s:-absent}"
  done
)

# The npm packages come after the Debian ones (npm itself is one of those).
npm_packages() {
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  if [[ $mode == --check ]]; then "$here/npm-deps.sh" --check; else "$here/npm-deps.sh"; fi
}

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  npm_packages
  exit 0
fi
echo "install-deps: missing: ${missing[*]}"
[[ $mode == --check ]] && exit 1

sudo=()
if [[ $(id -u) != 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install them by hand" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian's mariadb-server and nginx packages start system services on
# install; nothing here uses them (we run our own instances on our own
# ports), so they are left as the package made them.
echo "install-deps: installed ${missing[*]}"
npm_packages
