#!/usr/bin/env bash
# Generates the interop PKI with openssl: a private root, an intermediate, and one directory per
# scenario under $1 holding key.pem, leaf.pem (the leaf alone) and served.pem (what the server
# sends: leaf + intermediate, or the leaf alone where the scenario says so).
# OpenSSL 3.0 has no `x509 -not_before`, so leaves are issued with `openssl ca -startdate/-enddate`.
set -euo pipefail
out=${1:?usage: certs.sh OUTDIR}
mkdir -p "$out"
cd "$out"
export OPENSSL_CONF=/dev/null # nothing from the host's openssl.cnf leaks into the certificates

stamp() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

# Root and intermediate (RSA-2048, SHA-256), valid for years so no CHAIN_EXPIRES_SOON.
cat >ca-ext.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
[root]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[intermediate]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/O=certwatch interop/CN=Interop Root" \
  -config ca-ext.cnf -extensions root -keyout root.key -out root.pem 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -subj "/O=certwatch interop/CN=Interop Intermediate" \
  -config ca-ext.cnf -keyout intermediate.key -out intermediate.csr 2>/dev/null
openssl x509 -req -in intermediate.csr -CA root.pem -CAkey root.key -CAcreateserial -sha256 -days 1825 \
  -extfile ca-ext.cnf -extensions intermediate -out intermediate.pem 2>/dev/null

# `openssl ca` database for the leaves.
mkdir -p ca/new
: >ca/index.txt
echo 1000 >ca/serial
cat >ca.cnf <<'CNF'
[ca]
default_ca = interop
[interop]
dir = ca
database = $dir/index.txt
new_certs_dir = $dir/new
serial = $dir/serial
policy = any
unique_subject = no
email_in_dn = no
copy_extensions = none
default_md = sha256
[any]
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[leaf]
basicConstraints = critical,CA:false
keyUsage = critical,$ENV::KU
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::SAN
CNF

# The commonName of a leaf is a copy of its first SAN (CABF 7.1.4.3); the scenario is the OU.
first_dns() { local s=${1#DNS:}; echo "${s%%,*}"; }

# leaf NAME KEYSPEC MD START END SAN KU
leaf() {
  local name=$1 keyspec=$2 md=$3 start=$4 end=$5 san=$6 ku=$7
  mkdir -p "$name"
  openssl req -new -newkey "$keyspec" -nodes -config ca-ext.cnf -subj "/O=certwatch interop/OU=$name/CN=$(first_dns "$san")" \
    -keyout "$name/key.pem" -out "$name/req.csr" 2>/dev/null
  SAN=$san KU=$ku openssl ca -batch -config ca.cnf -extensions leaf -notext -md "$md" \
    -cert intermediate.pem -keyfile intermediate.key -startdate "$(stamp "$start")" -enddate "$(stamp "$end")" \
    -in "$name/req.csr" -out "$name/leaf.pem" 2>/dev/null
  cat "$name/leaf.pem" intermediate.pem >"$name/served.pem"
}
good_san="DNS:localhost,DNS:interop.test,IP:127.0.0.1"
rsa_ku="digitalSignature,keyEncipherment"
leaf valid rsa:2048 sha256 "-1 day" "+200 days" "$good_san" "$rsa_ku"
leaf expired rsa:2048 sha256 "-400 days" "-10 days" "$good_san" "$rsa_ku"
leaf soon rsa:2048 sha256 "-60 days" "+5 days" "$good_san" "$rsa_ku"
leaf wronghost rsa:2048 sha256 "-1 day" "+200 days" "DNS:wrong.example.net" "$rsa_ku"
leaf weak rsa:1024 sha1 "-1 day" "+200 days" "$good_san" "$rsa_ku"
# `-newkey ec` needs its curve as -pkeyopt, which leaf() cannot pass: issue the ECDSA leaf by hand.
mkdir -p ecdsa
openssl req -new -config ca-ext.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=certwatch interop/OU=ecdsa/CN=$(first_dns "$good_san")" \
  -keyout ecdsa/key.pem -out ecdsa/req.csr 2>/dev/null
SAN=$good_san KU=digitalSignature openssl ca -batch -config ca.cnf -extensions leaf -notext -md sha256 \
  -cert intermediate.pem -keyfile intermediate.key -startdate "$(stamp "-1 day")" -enddate "$(stamp "+200 days")" \
  -in ecdsa/req.csr -out ecdsa/leaf.pem 2>/dev/null
cat ecdsa/leaf.pem intermediate.pem >ecdsa/served.pem

# The valid leaf served without its intermediate.
mkdir -p incomplete
cp valid/key.pem valid/leaf.pem incomplete/
cp valid/leaf.pem incomplete/served.pem

# Self-signed: its own issuer, nothing else sent.
mkdir -p selfsigned
openssl req -x509 -config ca-ext.cnf -newkey rsa:2048 -nodes -sha256 -days 200 -subj "/O=certwatch interop/OU=selfsigned/CN=$(first_dns "$good_san")" \
  -addext "subjectAltName=$good_san" -addext "basicConstraints=critical,CA:false" \
  -keyout selfsigned/key.pem -out selfsigned/leaf.pem 2>/dev/null
cp selfsigned/leaf.pem selfsigned/served.pem

# Finite-field DH group (RFC 7919 ffdhe2048) for servers that insist on a DH file; no slow dhparam.
openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out dh.pem 2>/dev/null

for d in valid incomplete expired soon wronghost selfsigned weak ecdsa; do
  cat "$d/key.pem" "$d/served.pem" >"$d/combined.pem" # key + chain in one file (Postfix, vsftpd)
  chmod 600 "$d/key.pem" "$d/combined.pem"
done
chmod 644 ./*.pem
