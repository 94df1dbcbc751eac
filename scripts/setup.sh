#!/usr/bin/env bash
# Install what the project needs on a Debian 12 machine, idempotently:
# Debian packages (kernel build, QEMU, filesystem tools), the pinned kernel
# source, npm packages, and the compiled TypeScript. Safe to run every time.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }

# Node.js comes with the machine, not from here: Debian 12's own nodejs is
# 18, and the project needs 20 (package.json engines). --check-node: only this.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "[setup] Node.js >= 20 is needed, found $(node --version 2>/dev/null || echo none): Debian 12's nodejs package is 18; install Node.js 20 or newer (nodejs.org, NodeSource or nvm)" >&2
  exit 1
fi
if [ "${1:-}" = --check-node ]; then exit 0; fi
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  build-essential bc bison flex libelf-dev libssl-dev dwarves cpio kmod xz-utils git
  python3 python3-ply python3-git qemu-system-x86 e2fsprogs
  gcc-multilib cmake fio stress-ng lz4
  clang lld llvm ccache
)
missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done

source_pkg=linux-source-6.12
pin=$(cat kernel/source-version)
have_source=$(dpkg-query -W -f='${Version}' "$source_pkg" 2>/dev/null || true)
if [ "$(dpkg-query -W -f='${Status}' "$source_pkg" 2>/dev/null)" != "install ok installed" ]; then
  have_source=
fi

updated=
apt_update() { [ -n "$updated" ] || { say "apt-get update"; $SUDO apt-get update -qq; updated=1; }; }

if [ ${#missing[@]} -gt 0 ]; then
  apt_update
  say "installing ${missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$have_source" != "$pin" ]; then
  apt_update
  say "installing $source_pkg=$pin"
  if ! $SUDO apt-get install -y -qq --no-install-recommends "$source_pkg=$pin" >/dev/null; then
    cat >&2 <<MSG

!!! ============================================================== !!!
!!! $source_pkg $pin is gone from the archive.
!!! Falling back to the newest $source_pkg: the kernel is NOT the
!!! pinned version. Update kernel/source-version once it is tested.
!!! ============================================================== !!!

MSG
    $SUDO apt-get install -y -qq --no-install-recommends "$source_pkg" >/dev/null
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund
fi
# From scratch: the output of a deleted or renamed source must not linger.
say "tsc"
rm -rf dist
npx tsc -p tsconfig.json
say "ready"
