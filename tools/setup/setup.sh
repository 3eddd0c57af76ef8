#!/usr/bin/env bash
# Prepares a fresh Debian machine (as root) or a developer checkout for building, testing and
# running NAT64 handoff: the system tools the end-to-end tests drive, pnpm, and the workspace.
# Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
# Programs the end-to-end tests and the demo run for real, and the Debian packages that bring them.
declare -A PACKAGE_OF=([ip]=iproute2 [ping]=iputils-ping [curl]=curl [iperf3]=iperf3 [tshark]=tshark [tcpdump]=tcpdump [ethtool]=ethtool [logrotate]=logrotate [systemd-analyze]=systemd)

missing=()
for program in "${!PACKAGE_OF[@]}"; do
  command -v "$program" >/dev/null 2>&1 || missing+=("${PACKAGE_OF[$program]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing ${missing[*]}; end-to-end tests that need them will be skipped" >&2
  fi
fi

if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION"
fi

# Native addons (the TUN binding, better-sqlite3) build against the headers installed with Node.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi
pnpm install --frozen-lockfile
