#!/usr/bin/env bash
# Installs the Debian packages that building, testing and the default training run need.
# Does nothing when they are all present already. Extra package names may be given as arguments
# (scripts/fuzz.sh asks for clang and its libFuzzer runtime this way).
set -euo pipefail
packages=(build-essential cmake pkg-config libpng-dev zlib1g-dev libopenblas-openmp-dev libjansson-dev
          libjpeg62-turbo-dev libwebp-dev liblmdb-dev libcairo2-dev libgif-dev libprotobuf-c-dev protobuf-c-compiler
          libdnnl-dev dataset-fashion-mnist libopenmpi-dev openmpi-bin "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
