#!/usr/bin/env bash
# Prepares a Debian/Ubuntu machine for xoa: Node >= 20 for xoa itself, the Debian packages, and the `xoa`
# command on PATH. With --dev also what the test suite uses (npm ci, real validators and services).
# As root (a fresh Debian 12 installed with a root password has no sudo):
#   ./scripts/setup.sh          # to deploy:   then  xoa apply --spec /etc/xoa/xoa.toml
#   ./scripts/setup.sh --dev    # to develop:  then  npm test
# As a sudo user: the same with `sudo` in front.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

# Every step says what it is; a failure names the step, the command and its exit status — never a silent exit.
step=starting
trap 'rc=$?; echo "setup.sh: FAILED at step \"$step\" (exit $rc): $BASH_COMMAND" >&2; exit $rc' ERR
begin() {
  step=$1
  echo "setup.sh: $step"
}

dev=0
case "${1:-}" in
  --dev) dev=1 ;;
  '') ;;
  *) echo "setup.sh: unknown option $1 (use --dev or nothing)" >&2; exit 2 ;;
esac
if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: run as root (as root: ./scripts/setup.sh; as a sudo user: sudo ./scripts/setup.sh)" >&2
  exit 2
fi

export DEBIAN_FRONTEND=noninteractive
# The packages XO needs at runtime are installed by `xoa apply` (src/plan/packages.ts); the test suite's own
# list is scripts/packages-test.txt. apt's errors go to stderr; only its progress chatter is dropped.
begin "apt-get update"
apt-get update -q >/dev/null
if [ $dev = 1 ]; then
  begin "install the test suite's packages (scripts/packages-test.txt)"
  # shellcheck disable=SC2046
  apt-get install -y -q --no-install-recommends $(grep -v '^\s*#' scripts/packages-test.txt) >/dev/null
fi

# xoa needs Node >= 20; Debian 12 ships 18. Bring Node 22 from the npm registry's node-linux-* package
# (through npm, so the machine's registry, proxy and CA settings — /etc/npmrc — apply) into /opt/xoa/node,
# unless Node >= 20 is here.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 20 ]; then
  if ! command -v npm >/dev/null; then
    begin "install Debian's nodejs and npm (to fetch Node 22)"
    # ca-certificates: Debian's Node trusts the system store, which --no-install-recommends would leave out.
    apt-get install -y -q --no-install-recommends nodejs npm ca-certificates >/dev/null
  fi
  arch=$(uname -m)
  case "$arch" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; esac
  begin "npm install node-linux-$arch@22 into /opt/xoa/node-pkg"
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix /opt/xoa/node-pkg "node-linux-$arch@22"
  ln -sfn "/opt/xoa/node-pkg/node_modules/node-linux-$arch" /opt/xoa/node
  ln -sf /opt/xoa/node/bin/node /usr/local/bin/node
  hash -r
fi

if [ $dev = 1 ]; then
  begin "npm ci (the suite's dependencies)"
  npm ci --no-audit --no-fund --loglevel=error
else
  begin "install xoa into /usr/local/lib/xoa and /usr/local/bin/xoa"
  install -d /usr/local/lib/xoa
  install -m 0755 dist/xoa.mjs /usr/local/lib/xoa/xoa.mjs
  install -m 0644 xo-source.json /usr/local/lib/xoa/xo-source.json
  ln -sf /usr/local/lib/xoa/xoa.mjs /usr/local/bin/xoa
fi
step=done
echo "setup.sh: ready (node $(node --version))"
