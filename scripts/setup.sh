#!/usr/bin/env bash
# Prepares a Debian/Ubuntu machine for xoa: Node >= 20 for xoa itself, the Debian packages, and the `xoa`
# command on PATH. With --dev also what the test suite uses (npm ci, real validators and services).
#   sudo ./scripts/setup.sh          # to deploy:   then  sudo xoa apply --spec /etc/xoa/xoa.toml
#   sudo ./scripts/setup.sh --dev    # to develop:  then  npm test
set -euo pipefail
cd "$(dirname "$0")/.."
dev=0
[ "${1:-}" = "--dev" ] && dev=1
[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root (sudo)" >&2; exit 2; }

export DEBIAN_FRONTEND=noninteractive
# The packages XO needs at runtime are installed by `xoa apply` (src/plan/packages.ts); the test suite's own
# list is scripts/packages-test.txt.
apt-get update -qq
if [ $dev = 1 ]; then
  # shellcheck disable=SC2046
  apt-get install -y -qq --no-install-recommends $(grep -v '^\s*#' scripts/packages-test.txt) >/dev/null
fi

# xoa needs Node >= 20; Debian 12 ships 18. Bring Node 22 from the npm registry's node-linux-* package
# (through npm, so the machine's registry and proxy settings apply) into /opt/xoa/node, unless Node >= 20 is here.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 20 ]; then
  command -v npm >/dev/null || apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  arch=$(uname -m); case "$arch" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; esac
  npm install --silent --no-save --prefix /opt/xoa/node-pkg "node-linux-$arch@22"
  ln -sfn /opt/xoa/node-pkg/node_modules/node-linux-$arch /opt/xoa/node
  ln -sf /opt/xoa/node/bin/node /usr/local/bin/node
  hash -r
fi

if [ $dev = 1 ]; then
  npm ci --silent
else
  install -d /usr/local/lib/xoa
  install -m 0755 dist/xoa.mjs /usr/local/lib/xoa/xoa.mjs
  install -m 0644 xo-source.json /usr/local/lib/xoa/xo-source.json
  ln -sf /usr/local/lib/xoa/xoa.mjs /usr/local/bin/xoa
fi
echo "setup.sh: ready (node $(node --version))"
