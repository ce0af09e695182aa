#!/usr/bin/env bash
# Installs every Debian package Atoll needs to build, test and benchmark.
# Idempotent: packages already present are skipped. Uses sudo when not root.
# Nothing is downloaded from anywhere but Debian's archive.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkgconf git
  clang clang-format libclang-rt-dev
  libucx-dev ucx-utils
  libtbb-dev libhwloc-dev libmetis-dev libibverbs-dev ibverbs-utils
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libzstd-dev zlib1g-dev zstd gzip libpng-dev
  openmpi-bin
  python3 python3-matplotlib tmux
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
