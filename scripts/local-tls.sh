#!/usr/bin/env bash
# A local certificate authority and a certificate it signs for localhost,
# 127.0.0.1 and ::1, for `make run` and the e2e stack (HTTPS without a
# public CA).
#
#   scripts/local-tls.sh DIR
#
# Creates, when missing: DIR/ca.pem + DIR/ca.key (the CA, 10 years) and
# DIR/cert.pem + DIR/key.pem (the server's, 397 days, re-issued by the same
# CA when it has under 30 days left, so a CA you trusted stays trusted).
# Keys are EC P-256, mode 600. The CA is name-constrained to localhost and
# loopback addresses: trusting it cannot let its key vouch for any other
# site. Prints nothing when there is nothing to do.
set -euo pipefail

dir=${1:?usage: local-tls.sh DIR}
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 077

new_ca() {
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -out ca.pem -days 3650 -sha256 \
    -subj "/O=authd local development/CN=authd local CA $(hostname -s 2>/dev/null || echo host) $(date -u +%Y-%m-%d)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -addext "nameConstraints=critical,permitted;DNS:localhost,permitted;IP:127.0.0.0/255.0.0.0,permitted;IP:::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" \
    2>/dev/null
  rm -f cert.pem key.pem
  echo "local-tls: created a local CA in $dir/ca.pem" >&2
}

new_server_cert() {
  local ext
  ext=$(mktemp)
  cat >"$ext" <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EXT
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout key.pem -out server.csr -subj "/CN=localhost" 2>/dev/null
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
    -set_serial "0x$(openssl rand -hex 16)" -days 397 -sha256 -extfile "$ext" \
    -out cert.pem 2>/dev/null
  rm -f server.csr "$ext"
  echo "local-tls: issued $dir/cert.pem for localhost, 127.0.0.1 and ::1" >&2
}

if [[ ! -s ca.pem || ! -s ca.key ]] || ! openssl x509 -in ca.pem -noout -checkend 2592000 >/dev/null; then
  new_ca
fi
if [[ ! -s cert.pem || ! -s key.pem ]] || ! openssl x509 -in cert.pem -noout -checkend 2592000 >/dev/null ||
  ! openssl verify -CAfile ca.pem cert.pem >/dev/null 2>&1; then
  new_server_cert
fi
chmod 600 ca.key key.pem
chmod 644 ca.pem cert.pem
