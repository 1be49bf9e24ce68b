#!/usr/bin/env bash
# proxy-cert.sh DIR: a self-signed certificate for the HTTPS front door (HAProxy), valid for
# localhost, 127.0.0.1 and ::1 (extra names: PROXY_CERT_NAMES="DNS:faas.example,IP:10.0.0.5").
# Writes DIR/cert.pem (give it to clients to trust), DIR/key.pem and DIR/proxy.pem (certificate
# then key, the form HAProxy loads). Idempotent: an existing proxy.pem is kept.
set -euo pipefail
dir="${1:?usage: proxy-cert.sh DIR}"
[ -s "$dir/proxy.pem" ] && exit 0
command -v openssl >/dev/null || { echo "openssl not found: apt-get install openssl" >&2; exit 1; }
mkdir -p "$dir"
names="DNS:localhost,IP:127.0.0.1,IP:::1${PROXY_CERT_NAMES:+,$PROXY_CERT_NAMES}"
# CA:TRUE lets clients trust it as their own CA (`curl --cacert`, Node's `ca`).
(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
  -subj "/CN=faas front door" -addext "subjectAltName=$names" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,digitalSignature,keyCertSign" \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null)
chmod 644 "$dir/cert.pem"
(umask 077 && cat "$dir/cert.pem" "$dir/key.pem" >"$dir/proxy.pem")
