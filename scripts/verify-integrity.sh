#!/usr/bin/env bash
# verify-integrity.sh FILE SRI: exits 0 when FILE's sha512 is the subresource-integrity
# value SRI (sha512-<base64>, as npm publishes it), 3 with NODE_PACKAGE_DIGEST_MISMATCH
# otherwise. Coreutils only: the machine may have no Node.js and no openssl yet.
set -euo pipefail
file=${1:?usage: verify-integrity.sh FILE sha512-BASE64}
sri=${2:?usage: verify-integrity.sh FILE sha512-BASE64}
if [[ "$sri" != sha512-* ]]; then
  echo "NODE_PACKAGE_DIGEST_MISMATCH: pinned value for $(basename "$file") is not a sha512 integrity: $sri" >&2
  exit 3
fi
expected=$(printf '%s' "${sri#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
actual=$(sha512sum "$file" | cut -d' ' -f1)
if [[ "$expected" != "$actual" ]]; then
  echo "NODE_PACKAGE_DIGEST_MISMATCH: $(basename "$file") has sha512 $actual, the pinned $sri is $expected; not installed" >&2
  exit 3
fi
